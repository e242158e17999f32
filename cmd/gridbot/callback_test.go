package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"gridbot/bot"
	"gridbot/bot/wecom"
	"gridbot/bot/wecom/wecomfake"
)

func textXML(user, msgID, content string) []byte {
	return wecom.BuildXML(bot.Inbound{
		Kind: bot.KindText, MsgType: "text", CorpID: tCorp, UserID: user,
		AgentID: fmt.Sprint(tAgent), CreateTime: time.Now().Truncate(time.Second), MsgID: msgID, Content: content,
	})
}

func forEachBackend(t *testing.T, f func(t *testing.T, be backend)) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) { f(t, be) })
	}
}

// WeCom's GET verification gets exactly the decrypted echostr; a wrong
// signature gets 4xx and not the plaintext.
func TestURLVerification(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		app := startApp(t, be, appOpts{})
		q, err := app.crypto.EchoQuery("8311650453987426562", time.Now(), "1597212914")
		if err != nil {
			t.Fatal(err)
		}
		code, body := app.get("/wecom/callback?" + q.Encode())
		if code != http.StatusOK || body != "8311650453987426562" {
			t.Fatalf("verification answered %d %q, want 200 and exactly the echo", code, body)
		}
		q.Set("msg_signature", strings.Repeat("0", 40))
		code, body = app.get("/wecom/callback?" + q.Encode())
		if code < 400 || code >= 500 || strings.Contains(body, "8311650453987426562") {
			t.Fatalf("forged verification answered %d %q", code, body)
		}
	})
}

// A text from someone not on the roster is answered with one polite line,
// through the inbox, the worker, the outbox and the WeCom API; nothing else
// happens.
func TestUnknownUserGetsOnePoliteLine(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		app := startApp(t, be, appOpts{})
		if resp := app.post(textXML("zhangsan", "10001", "你好")); resp.StatusCode != http.StatusOK {
			t.Fatalf("callback answered %d", resp.StatusCode)
		}
		app.waitFake("the help reply", func(f *wecomfake.Fake) bool { return len(f.Messages("zhangsan")) == 1 })
		msg := app.fake.Messages("zhangsan")[0]
		var body struct {
			ToUser  string `json:"touser"`
			MsgType string `json:"msgtype"`
			AgentID int    `json:"agentid"`
			Text    struct {
				Content string `json:"content"`
			} `json:"text"`
		}
		if err := json.Unmarshal(msg.Body, &body); err != nil {
			t.Fatal(err)
		}
		if body.ToUser != "zhangsan" || body.MsgType != "text" || body.AgentID != tAgent || !strings.Contains(body.Text.Content, "不在本系统名单") {
			t.Fatalf("reply = %+v", body)
		}
		app.eventually("the reply marked sent", func() bool { return len(app.outbox(bot.OutSent)) == 1 })
	})
}

// The same callback delivered three times at once (each with a fresh
// ciphertext, as WeCom's retries are) makes one inbox row and one reply;
// the same for an event, which has no MsgId.
func TestRetriedDeliveriesAreDeduped(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		app := startApp(t, be, appOpts{})
		enter := wecom.BuildXML(bot.Inbound{Kind: bot.KindEnter, MsgType: "event", Event: "enter_agent",
			CorpID: tCorp, UserID: "lisi", AgentID: fmt.Sprint(tAgent), CreateTime: time.Now().Truncate(time.Second)})
		for _, plain := range [][]byte{textXML("lisi", "20002", "路灯不亮"), enter} {
			var wg sync.WaitGroup
			codes := make([]int, 3)
			for i := range codes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					codes[i] = app.post(plain).StatusCode
				}()
			}
			wg.Wait()
			for i, c := range codes {
				if c != http.StatusOK {
					t.Fatalf("delivery %d answered %d", i, c)
				}
			}
		}
		if n := app.inboxCount(); n != 2 {
			t.Fatalf("inbox has %d rows, want 2 (one text, one event)", n)
		}
		app.waitFake("the reply", func(f *wecomfake.Fake) bool { return len(f.Messages("lisi")) >= 1 })
		app.eventually("the inbox processed", func() bool {
			st, err := app.db.Inbox().Stats(context.Background())
			return err == nil && st.ByState[bot.InDone] == 2
		})
		app.eventually("the outbox drained", func() bool { return len(app.outbox(bot.OutSent)) == 1 })
		if n := len(app.outbox("")); n != 1 {
			t.Fatalf("outbox has %d items, want 1", n)
		}
		if n := len(app.fake.Messages("lisi")); n != 1 {
			t.Fatalf("lisi got %d messages, want 1", n)
		}
	})
}

// Bad input gets a 4xx, writes nothing, and the server keeps serving.
func TestBadCallbacksChangeNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		app := startApp(t, be, appOpts{})
		plain := textXML("wangwu", "30003", "井盖丢了")
		q, body, err := app.crypto.Seal(plain, fmt.Sprint(tAgent), time.Now(), "12345")
		if err != nil {
			t.Fatal(err)
		}
		other, _ := wecom.NewCrypto(tToken, tAESKey, "wwothercorp")
		oq, obody, _ := other.Seal(plain, fmt.Sprint(tAgent), time.Now(), "12345")
		sq, sbody, _ := app.crypto.Seal(plain, fmt.Sprint(tAgent), time.Now().Add(-time.Hour), "12345")
		aq, abody, _ := app.crypto.Seal(plain, "999", time.Now(), "12345")

		// sign signs an arbitrary Encrypt value correctly, to reach the decrypt checks.
		sign := func(encrypt string) (string, []byte) {
			ts := fmt.Sprint(time.Now().Unix())
			v := url.Values{"msg_signature": {app.crypto.Signature(ts, "777", encrypt)}, "timestamp": {ts}, "nonce": {"777"}}
			return v.Encode(), []byte("<xml><ToUserName><![CDATA[" + tCorp + "]]></ToUserName><Encrypt><![CDATA[" + encrypt + "]]></Encrypt><AgentID><![CDATA[" + fmt.Sprint(tAgent) + "]]></AgentID></xml>")
		}
		forged := q.URLValues()
		forged.Set("msg_signature", strings.Repeat("a", 40))
		badB64Q, badB64 := sign("not*base64!")
		// 48 bytes of zeros decrypt to garbage: the pad byte is out of range
		// or the length prefix is wrong.
		badPadQ, badPad := sign("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
		malQ, _ := sign("x")

		cases := []struct {
			name  string
			query string
			body  []byte
			want  int
		}{
			{"forged signature", forged.Encode(), body, http.StatusForbidden},
			{"wrong corp", oq.URLValues().Encode(), obody, http.StatusForbidden},
			{"stale timestamp", sq.URLValues().Encode(), sbody, http.StatusForbidden},
			{"wrong agent", aq.URLValues().Encode(), abody, http.StatusForbidden},
			{"malformed XML", malQ, []byte("<xml><Encrypt>"), http.StatusBadRequest},
			{"bad base64", badB64Q, badB64, http.StatusBadRequest},
			{"bad padding", badPadQ, badPad, http.StatusBadRequest},
			{"over the cap", q.URLValues().Encode(), []byte(strings.Repeat("x", 65<<10)), http.StatusRequestEntityTooLarge},
			{"no query", "", body, http.StatusForbidden},
		}
		for _, c := range cases {
			if got := app.postRaw(c.query, c.body).StatusCode; got != c.want {
				t.Errorf("%s: answered %d, want %d", c.name, got, c.want)
			}
		}
		if n := app.inboxCount(); n != 0 {
			t.Fatalf("bad callbacks wrote %d inbox rows", n)
		}
		if code, _ := app.get("/healthz"); code != http.StatusOK {
			t.Fatalf("healthz answered %d after bad input", code)
		}
		// And a good one still goes through.
		if got := app.postRaw(q.URLValues().Encode(), body).StatusCode; got != http.StatusOK {
			t.Fatalf("good callback answered %d", got)
		}
		_, metrics := app.get("/metrics")
		for _, want := range []string{`gridbot_callbacks_total{result="unauthorized"} 5`, `gridbot_callbacks_total{result="invalid"} 3`, `gridbot_callbacks_total{result="too_large"} 1`, `gridbot_callbacks_total{result="ok"} 1`} {
			if !strings.Contains(metrics, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})
}
