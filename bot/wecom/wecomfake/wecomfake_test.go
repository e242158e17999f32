package wecomfake_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"gridbot/bot/wecom/wecomfake"
)

const (
	corpID  = "ww0123456789abcdef"
	secret  = "s3cret"
	agentID = 1000002
)

// clock is a movable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	t   *testing.T
	f   *wecomfake.Fake
	srv *httptest.Server
	clk *clock
	tok string
}

func newEnv(t *testing.T, mod ...func(*wecomfake.Options)) *env {
	t.Helper()
	clk := &clock{t: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
	opts := wecomfake.Options{
		CorpID: corpID, CorpSecret: secret, AgentID: agentID,
		RobotKeys: []string{"plain-key"},
		Robots:    map[string]string{"district1": "key-d1"},
		Now:       clk.Now,
	}
	for _, m := range mod {
		m(&opts)
	}
	f := wecomfake.New(opts)
	srv := httptest.NewServer(f.Handler())
	t.Cleanup(srv.Close)
	e := &env{t: t, f: f, srv: srv, clk: clk}
	e.tok = e.token()
	return e
}

// token fetches a fresh access_token.
func (e *env) token() string {
	e.t.Helper()
	m := e.get("/cgi-bin/gettoken?" + url.Values{"corpid": {corpID}, "corpsecret": {secret}}.Encode())
	if code(m) != 0 {
		e.t.Fatalf("gettoken: %v", m)
	}
	return m["access_token"].(string)
}

func (e *env) get(path string) map[string]any {
	e.t.Helper()
	resp, err := http.Get(e.srv.URL + path)
	if err != nil {
		e.t.Fatal(err)
	}
	return decode(e.t, resp)
}

// call posts body (a string or a value to marshal) to /cgi-bin/api with e's token.
func (e *env) call(api string, body any) map[string]any {
	e.t.Helper()
	return e.postURL(e.srv.URL+"/cgi-bin/"+api+"?access_token="+url.QueryEscape(e.tok), body)
}

func (e *env) postURL(u string, body any) map[string]any {
	e.t.Helper()
	b, ok := body.(string)
	if !ok {
		raw, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		b = string(raw)
	}
	resp, err := http.Post(u, "application/json", strings.NewReader(b))
	if err != nil {
		e.t.Fatal(err)
	}
	return decode(e.t, resp)
}

func decode(t *testing.T, resp *http.Response) map[string]any {
	t.Helper()
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP %d", resp.StatusCode)
	}
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return m
}

func code(m map[string]any) int {
	n, _ := m["errcode"].(float64)
	return int(n)
}

func text(to, content string) map[string]any {
	return map[string]any{"touser": to, "msgtype": "text", "agentid": agentID, "text": map[string]any{"content": content}}
}

func buttonCard(to, taskID string) map[string]any {
	return map[string]any{
		"touser": to, "msgtype": "template_card", "agentid": agentID,
		"template_card": map[string]any{
			"card_type":  "button_interaction",
			"main_title": map[string]any{"title": "Case 42"},
			"task_id":    taskID,
			"button_list": []any{
				map[string]any{"text": "Accept", "key": "accept"},
				map[string]any{"text": "Escalate", "key": "escalate", "style": 2},
			},
		},
	}
}

func TestToken(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		q    url.Values
		want int
	}{
		{url.Values{"corpid": {"other"}, "corpsecret": {secret}}, 40013},
		{url.Values{"corpid": {corpID}, "corpsecret": {"wrong"}}, 40001},
		{url.Values{"corpsecret": {secret}}, 41002},
		{url.Values{"corpid": {corpID}}, 41004},
	} {
		if got := code(e.get("/cgi-bin/gettoken?" + tc.q.Encode())); got != tc.want {
			t.Errorf("gettoken %v: errcode %d, want %d", tc.q, got, tc.want)
		}
	}
	m := e.get("/cgi-bin/gettoken?" + url.Values{"corpid": {corpID}, "corpsecret": {secret}}.Encode())
	if code(m) != 0 || m["errmsg"] != "ok" || m["expires_in"] != float64(7200) || m["access_token"] == "" {
		t.Fatalf("gettoken: %v", m)
	}
	tok2 := m["access_token"].(string)
	if tok2 == e.tok {
		t.Fatal("two gettoken calls gave the same token")
	}

	send := func(tok string) int {
		u := e.srv.URL + "/cgi-bin/message/send"
		if tok != "" {
			u += "?access_token=" + url.QueryEscape(tok)
		}
		return code(e.postURL(u, text("u1", "hi")))
	}
	for name, tc := range map[string]struct {
		tok  string
		want int
	}{
		"first token":  {e.tok, 0},
		"second token": {tok2, 0},
		"missing":      {"", 41001},
		"unknown":      {"nope", 40014},
	} {
		if got := send(tc.tok); got != tc.want {
			t.Errorf("%s: errcode %d, want %d", name, got, tc.want)
		}
	}

	e.clk.Add(7199 * time.Second)
	if got := send(e.tok); got != 0 {
		t.Fatalf("token before expiry: errcode %d", got)
	}
	e.clk.Add(time.Second)
	if got := send(e.tok); got != 42001 {
		t.Fatalf("token after TTL: errcode %d, want 42001", got)
	}
	fresh := e.token()
	if got := send(fresh); got != 0 {
		t.Fatalf("fresh token: errcode %d", got)
	}
	e.f.ExpireTokens()
	if got := send(fresh); got != 42001 {
		t.Fatalf("after ExpireTokens: errcode %d, want 42001", got)
	}
	if got := send(e.token()); got != 0 {
		t.Fatalf("token after ExpireTokens: errcode %d", got)
	}

	for _, r := range e.f.Requests() {
		if strings.Contains(string(r.Body), secret) {
			t.Fatalf("secret recorded in %+v", r)
		}
	}
}

func TestSendValidation(t *testing.T) {
	e := newEnv(t)
	long := strings.Repeat("x", 2049)
	okCard := `"main_title":{"title":"T"},"task_id":"%s"`
	cases := []struct {
		name string
		body string
		want int
	}{
		{"bad json", `{"touser":`, 40058},
		{"touser not a string", `{"touser":["u1"],"msgtype":"text","agentid":1000002,"text":{"content":"x"}}`, 40058},
		{"missing agentid", `{"touser":"u1","msgtype":"text","text":{"content":"x"}}`, 41011},
		{"wrong agentid", `{"touser":"u1","msgtype":"text","agentid":7,"text":{"content":"x"}}`, 40056},
		{"wrong agentid string", `{"touser":"u1","msgtype":"text","agentid":"7","text":{"content":"x"}}`, 40056},
		{"no recipients", `{"touser":"","msgtype":"text","agentid":1000002,"text":{"content":"x"}}`, 82001},
		{"all invalid", `{"touser":"bad user|<x>","msgtype":"text","agentid":1000002,"text":{"content":"x"}}`, 81013},
		{"unknown msgtype", `{"touser":"u1","msgtype":"sticker","agentid":1000002}`, 40008},
		{"missing msgtype", `{"touser":"u1","agentid":1000002,"text":{"content":"x"}}`, 40008},
		{"empty text", `{"touser":"u1","msgtype":"text","agentid":1000002,"text":{"content":""}}`, 44004},
		{"no text object", `{"touser":"u1","msgtype":"text","agentid":1000002}`, 44004},
		{"long text", `{"touser":"u1","msgtype":"text","agentid":1000002,"text":{"content":"` + long + `"}}`, 45002},
		{"long markdown", `{"touser":"u1","msgtype":"markdown","agentid":1000002,"markdown":{"content":"` + long + `"}}`, 45002},
		{"image unknown media", `{"touser":"u1","msgtype":"image","agentid":1000002,"image":{"media_id":"nope"}}`, 40007},
		{"textcard no url", `{"touser":"u1","msgtype":"textcard","agentid":1000002,"textcard":{"title":"t","description":"d"}}`, 41010},
		{"bad card_type", `{"touser":"u1","msgtype":"template_card","agentid":1000002,"template_card":{"card_type":"fancy"}}`, 42031},
		{"button no task_id", `{"touser":"u1","msgtype":"template_card","agentid":1000002,"template_card":{"card_type":"button_interaction","main_title":{"title":"T"},"button_list":[{"text":"a","key":"a"}]}}`, 42014},
		{"task_id bad chars", `{"touser":"u1","msgtype":"template_card","agentid":1000002,"template_card":{"card_type":"button_interaction",` + fmt.Sprintf(okCard, "case 1/2") + `,"button_list":[{"text":"a","key":"a"}]}}`, 42014},
		{"task_id too long", `{"touser":"u1","msgtype":"template_card","agentid":1000002,"template_card":{"card_type":"button_interaction",` + fmt.Sprintf(okCard, strings.Repeat("a", 129)) + `,"button_list":[{"text":"a","key":"a"}]}}`, 42014},
		{"button no title", `{"touser":"u1","msgtype":"template_card","agentid":1000002,"template_card":{"card_type":"button_interaction","task_id":"t-x1","button_list":[{"text":"a","key":"a"}]}}`, 42033},
		{"no buttons", `{"touser":"u1","msgtype":"template_card","agentid":1000002,"template_card":{"card_type":"button_interaction",` + fmt.Sprintf(okCard, "t-x2") + `,"button_list":[]}}`, 40058},
		{"seven buttons", `{"touser":"u1","msgtype":"template_card","agentid":1000002,"template_card":{"card_type":"button_interaction",` + fmt.Sprintf(okCard, "t-x3") + `,"button_list":[{"text":"a","key":"1"},{"text":"a","key":"2"},{"text":"a","key":"3"},{"text":"a","key":"4"},{"text":"a","key":"5"},{"text":"a","key":"6"},{"text":"a","key":"7"}]}}`, 40058},
		{"button no text", `{"touser":"u1","msgtype":"template_card","agentid":1000002,"template_card":{"card_type":"button_interaction",` + fmt.Sprintf(okCard, "t-x4") + `,"button_list":[{"key":"a"}]}}`, 42038},
		{"button no key", `{"touser":"u1","msgtype":"template_card","agentid":1000002,"template_card":{"card_type":"button_interaction",` + fmt.Sprintf(okCard, "t-x5") + `,"button_list":[{"text":"a"}]}}`, 42039},
		{"duplicate keys", `{"touser":"u1","msgtype":"template_card","agentid":1000002,"template_card":{"card_type":"button_interaction",` + fmt.Sprintf(okCard, "t-x6") + `,"button_list":[{"text":"a","key":"k"},{"text":"b","key":"k"}]}}`, 42039},
		{"key too long", `{"touser":"u1","msgtype":"template_card","agentid":1000002,"template_card":{"card_type":"button_interaction",` + fmt.Sprintf(okCard, "t-x7") + `,"button_list":[{"text":"a","key":"` + strings.Repeat("k", 1025) + `"}]}}`, 42039},
		{"url button without url", `{"touser":"u1","msgtype":"template_card","agentid":1000002,"template_card":{"card_type":"button_interaction",` + fmt.Sprintf(okCard, "t-x8") + `,"button_list":[{"type":1,"text":"a"}]}}`, 42028},
		{"text_notice no card_action", `{"touser":"u1","msgtype":"template_card","agentid":1000002,"template_card":{"card_type":"text_notice","main_title":{"title":"T"}}}`, 42045},
		{"text_notice card_action type 0", `{"touser":"u1","msgtype":"template_card","agentid":1000002,"template_card":{"card_type":"text_notice","main_title":{"title":"T"},"card_action":{"type":0}}}`, 42045},
		{"text_notice no url", `{"touser":"u1","msgtype":"template_card","agentid":1000002,"template_card":{"card_type":"text_notice","main_title":{"title":"T"},"card_action":{"type":1}}}`, 42028},
		{"text_notice no title", `{"touser":"u1","msgtype":"template_card","agentid":1000002,"template_card":{"card_type":"text_notice","card_action":{"type":1,"url":"https://x"}}}`, 42033},
		{"horizontal no keyname", `{"touser":"u1","msgtype":"template_card","agentid":1000002,"template_card":{"card_type":"text_notice","main_title":{"title":"T"},"card_action":{"type":1,"url":"https://x"},"horizontal_content_list":[{"value":"v"}]}}`, 42027},
		{"menu without task_id", `{"touser":"u1","msgtype":"template_card","agentid":1000002,"template_card":{"card_type":"text_notice","main_title":{"title":"T"},"card_action":{"type":1,"url":"https://x"},"action_menu":{"desc":"d","action_list":[{"text":"a","key":"a"}]}}}`, 42014},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := e.call("message/send", tc.body)
			if code(m) != tc.want {
				t.Fatalf("errcode %d (%v), want %d", code(m), m["errmsg"], tc.want)
			}
			if m["errmsg"] == "" || m["errmsg"] == "ok" {
				t.Fatalf("errmsg %q", m["errmsg"])
			}
		})
	}
	if got := len(e.f.Messages("u1")); got != 0 {
		t.Fatalf("u1 saw %d messages after invalid sends", got)
	}

	valid := []struct {
		name     string
		body     any
		wantCode bool
	}{
		{"text", text("u1|u2", "hello"), false},
		{"agentid as string", `{"touser":"u1","msgtype":"text","agentid":"1000002","text":{"content":"x"}}`, false},
		{"markdown", map[string]any{"touser": "u1", "msgtype": "markdown", "agentid": agentID, "markdown": map[string]any{"content": "**bold** " + strings.Repeat("x", 2030)}}, false},
		{"button card", buttonCard("u1", "case_42_1"), true},
		{"text_notice", map[string]any{"touser": "u1", "msgtype": "template_card", "agentid": agentID, "template_card": map[string]any{
			"card_type": "text_notice", "main_title": map[string]any{"title": "Digest"}, "card_action": map[string]any{"type": 1, "url": "https://example.com"},
		}}, false},
		{"text_notice with sub_title only", map[string]any{"touser": "u1", "msgtype": "template_card", "agentid": agentID, "template_card": map[string]any{
			"card_type": "text_notice", "sub_title_text": "Digest", "card_action": map[string]any{"type": 1, "url": "https://example.com"},
		}}, false},
	}
	for _, tc := range valid {
		t.Run(tc.name, func(t *testing.T) {
			m := e.call("message/send", tc.body)
			if code(m) != 0 || m["errmsg"] != "ok" {
				t.Fatalf("errcode %d: %v", code(m), m["errmsg"])
			}
			if s, _ := m["msgid"].(string); s == "" {
				t.Fatalf("no msgid: %v", m)
			}
			if _, ok := m["invaliduser"].(string); !ok {
				t.Fatalf("invaliduser missing or not a string: %v", m)
			}
			rc, _ := m["response_code"].(string)
			if (rc != "") != tc.wantCode {
				t.Fatalf("response_code %q, want one: %v", rc, tc.wantCode)
			}
		})
	}
	if got := len(e.f.Messages("u1")); got != len(valid) {
		t.Fatalf("u1 saw %d messages, want %d", got, len(valid))
	}
	if got := len(e.f.Messages("u2")); got != 1 {
		t.Fatalf("u2 saw %d messages, want 1", got)
	}

	m := e.call("message/send", text("u1|bad user", "partly"))
	if code(m) != 0 || m["invaliduser"] != "bad user" {
		t.Fatalf("partly invalid: %v", m)
	}
}

func TestKnownUsers(t *testing.T) {
	e := newEnv(t, func(o *wecomfake.Options) { o.KnownUsers = []string{"u1"} })
	m := e.call("message/send", text("u1|ghost", "hi"))
	if code(m) != 0 || m["invaliduser"] != "ghost" {
		t.Fatalf("send: %v", m)
	}
	if len(e.f.Messages("ghost")) != 0 || len(e.f.Messages("u1")) != 1 {
		t.Fatal("delivered to the wrong people")
	}
	if m := e.call("message/send", text("ghost", "hi")); code(m) != 81013 {
		t.Fatalf("all unknown: %v", m)
	}
}

func TestTaskIDNeverReused(t *testing.T) {
	e := newEnv(t)
	if m := e.call("message/send", buttonCard("u1", "case_7")); code(m) != 0 {
		t.Fatalf("first: %v", m)
	}
	if m := e.call("message/send", buttonCard("u2", "case_7")); code(m) != 42014 {
		t.Fatalf("reuse: errcode %d, want 42014", code(m))
	}
	notice := map[string]any{"touser": "u1", "msgtype": "template_card", "agentid": agentID, "template_card": map[string]any{
		"card_type": "text_notice", "main_title": map[string]any{"title": "x"}, "card_action": map[string]any{"type": 1, "url": "https://x"}, "task_id": "case_7",
	}}
	if m := e.call("message/send", notice); code(m) != 42014 {
		t.Fatalf("reuse by another card type: errcode %d, want 42014", code(m))
	}
	// A failed send does not use its task_id up.
	bad := buttonCard("u1", "case_8")
	bad["agentid"] = 1
	e.call("message/send", bad)
	if m := e.call("message/send", buttonCard("u1", "case_8")); code(m) != 0 {
		t.Fatalf("task_id of a failed send: %v", m)
	}
}

func TestUpdateTemplateCard(t *testing.T) {
	e := newEnv(t)
	sent := e.call("message/send", buttonCard("u1|u2", "case_9"))
	rc := sent["response_code"].(string)

	update := func(body map[string]any) map[string]any {
		body["agentid"] = agentID
		return e.call("message/update_template_card", body)
	}
	if m := update(map[string]any{"userids": []string{"u1"}, "response_code": "made-up", "button": map[string]any{"replace_name": "Done"}}); code(m) != 60140 {
		t.Fatalf("unknown code: %v", m)
	}
	if m := update(map[string]any{"userids": []string{"u1"}, "response_code": rc}); code(m) != 40058 {
		t.Fatalf("neither button nor card: %v", m)
	}
	m := update(map[string]any{"userids": []string{"u1"}, "response_code": rc, "button": map[string]any{"replace_name": "Accepted"}})
	if code(m) != 0 {
		t.Fatalf("update: %v", m)
	}
	m = update(map[string]any{"userids": []string{"u1"}, "response_code": rc, "button": map[string]any{"replace_name": "Again"}})
	if code(m) != 60140 || !strings.Contains(m["errmsg"].(string), "used") {
		t.Fatalf("second use: %v", m)
	}
	state, ok := e.f.Card("case_9")
	if !ok || !strings.Contains(string(state), `"replace_text":"Accepted"`) {
		t.Fatalf("card state %s", state)
	}
	if got := e.f.Messages("u1"); len(got) != 2 || got[1].API != "update_template_card" || got[1].TaskID != "case_9" || got[1].MsgType != "button" {
		t.Fatalf("u1 saw %+v", got)
	}
	if got := e.f.Messages("u2"); len(got) != 1 {
		t.Fatalf("u2 saw %d, want only the card", len(got))
	}

	// A click's code: the update replaces the card for everyone.
	click := e.f.IssueResponseCode("u2", "case_9")
	newCard := map[string]any{"card_type": "button_interaction", "main_title": map[string]any{"title": "Case 42 — taken"}, "task_id": "case_9",
		"button_list": []any{map[string]any{"text": "Taken", "key": "taken"}}, "replace_text": "Taken by u2"}
	if m := update(map[string]any{"atall": 1, "response_code": click, "template_card": newCard}); code(m) != 0 {
		t.Fatalf("atall update: %v", m)
	}
	state, _ = e.f.Card("case_9")
	if !strings.Contains(string(state), "taken") {
		t.Fatalf("card state %s", state)
	}
	for _, u := range []string{"u1", "u2"} {
		if got := e.f.Messages(u); got[len(got)-1].MsgType != "template_card" {
			t.Fatalf("%s did not see the update: %+v", u, got)
		}
	}

	// No recipients named: a click's code updates the clicker's card.
	click = e.f.IssueResponseCode("u1", "case_9")
	if m := update(map[string]any{"response_code": click, "button": map[string]any{"replace_name": "Mine"}}); code(m) != 0 {
		t.Fatalf("clicker update: %v", m)
	}
	if last := e.f.Requests()[len(e.f.Requests())-1]; len(last.Recipients) != 1 || last.Recipients[0] != "u1" {
		t.Fatalf("recipients %v", last.Recipients)
	}

	// Someone who never got the card is reported in invaliduser.
	click = e.f.IssueResponseCode("u1", "case_9")
	m = update(map[string]any{"userids": []string{"u1", "u9"}, "response_code": click, "button": map[string]any{"replace_name": "x"}})
	if code(m) != 0 || fmt.Sprint(m["invaliduser"]) != "[u9]" {
		t.Fatalf("invaliduser: %v", m)
	}

	// 72 hours.
	click = e.f.IssueResponseCode("u1", "case_9")
	e.clk.Add(72*time.Hour - time.Second)
	e.tok = e.token()
	late := e.f.IssueResponseCode("u1", "case_9")
	e.clk.Add(time.Second)
	e.tok = e.token()
	m = update(map[string]any{"userids": []string{"u1"}, "response_code": click, "button": map[string]any{"replace_name": "x"}})
	if code(m) != 60140 || !strings.Contains(m["errmsg"].(string), "expired") {
		t.Fatalf("expired code: %v", m)
	}
	if m := update(map[string]any{"userids": []string{"u1"}, "response_code": late, "button": map[string]any{"replace_name": "x"}}); code(m) != 0 {
		t.Fatalf("code within 72 h: %v", m)
	}

	// A code for a task that was never sent.
	if m := update(map[string]any{"response_code": e.f.IssueResponseCode("u1", "nothing"), "button": map[string]any{"replace_name": "x"}}); code(m) != 42016 {
		t.Fatalf("unknown task: %v", m)
	}
	// An invalid replacement card leaves the code usable.
	click = e.f.IssueResponseCode("u1", "case_9")
	if m := update(map[string]any{"response_code": click, "template_card": map[string]any{"card_type": "button_interaction"}}); code(m) != 42033 {
		t.Fatalf("invalid card: %v", m)
	}
	if m := update(map[string]any{"response_code": click, "button": map[string]any{"replace_name": "ok"}}); code(m) != 0 {
		t.Fatalf("code after a failed update: %v", m)
	}
}

func TestTextNoticeWithoutMenuCannotBeUpdated(t *testing.T) {
	e := newEnv(t)
	notice := map[string]any{"touser": "u1", "msgtype": "template_card", "agentid": agentID, "template_card": map[string]any{
		"card_type": "text_notice", "main_title": map[string]any{"title": "x"}, "card_action": map[string]any{"type": 1, "url": "https://x"}, "task_id": "n1",
	}}
	if m := e.call("message/send", notice); code(m) != 0 || m["response_code"] != nil {
		t.Fatalf("send: %v", m)
	}
	m := e.call("message/update_template_card", map[string]any{"agentid": agentID, "response_code": e.f.IssueResponseCode("u1", "n1"), "button": map[string]any{"replace_name": "x"}})
	if code(m) != 40058 {
		t.Fatalf("update: %v", m)
	}
}

func TestWebhook(t *testing.T) {
	e := newEnv(t)
	hook := func(key string, body any) map[string]any {
		return e.postURL(e.srv.URL+"/cgi-bin/webhook/send?key="+key, body)
	}
	msg := map[string]any{"msgtype": "text", "text": map[string]any{"content": "digest"}}
	if m := hook("wrong", msg); code(m) != 93000 {
		t.Fatalf("unknown key: %v", m)
	}
	if m := hook("", msg); code(m) != 93000 {
		t.Fatalf("no key: %v", m)
	}
	md := map[string]any{"msgtype": "markdown", "markdown": map[string]any{"content": strings.Repeat("m", 4096)}}
	if m := hook("key-d1", md); code(m) != 0 {
		t.Fatalf("4096-byte markdown: %v", m)
	}
	md["markdown"] = map[string]any{"content": strings.Repeat("m", 4097)}
	if m := hook("key-d1", md); code(m) != 45002 {
		t.Fatalf("4097-byte markdown: %v", m)
	}
	button := map[string]any{"msgtype": "template_card", "template_card": buttonCard("", "w1")["template_card"]}
	if m := hook("key-d1", button); code(m) != 42031 {
		t.Fatalf("interactive card through a robot: %v", m)
	}
	notice := map[string]any{"msgtype": "template_card", "template_card": map[string]any{
		"card_type": "text_notice", "main_title": map[string]any{"title": "x"}, "card_action": map[string]any{"type": 1, "url": "https://x"},
	}}
	if m := hook("key-d1", notice); code(m) != 0 {
		t.Fatalf("text_notice through a robot: %v", m)
	}
	for i := 2; i < 20; i++ {
		if m := hook("key-d1", msg); code(m) != 0 {
			t.Fatalf("message %d: %v", i+1, m)
		}
	}
	if m := hook("key-d1", msg); code(m) != 45009 {
		t.Fatalf("21st message in a minute: %v", m)
	}
	if m := hook("plain-key", msg); code(m) != 0 {
		t.Fatalf("another robot is not limited: %v", m)
	}
	e.clk.Add(61 * time.Second)
	if m := hook("key-d1", msg); code(m) != 0 {
		t.Fatalf("after a minute: %v", m)
	}
	if got := len(e.f.Messages("robot:district1")); got != 21 {
		t.Fatalf("robot:district1 got %d, want 21", got)
	}
	if got := len(e.f.Messages("robot:plain-key")); got != 1 {
		t.Fatalf("robot:plain-key got %d, want 1", got)
	}
}

func TestAppChat(t *testing.T) {
	e := newEnv(t, func(o *wecomfake.Options) { o.KnownChats = []string{"chat1"} })
	msg := map[string]any{"chatid": "chat1", "msgtype": "markdown", "markdown": map[string]any{"content": "**digest**"}}
	if m := e.call("appchat/send", msg); code(m) != 0 {
		t.Fatalf("send: %v", m)
	}
	card := map[string]any{"chatid": "chat1", "msgtype": "template_card", "template_card": buttonCard("", "c1")["template_card"]}
	if m := e.call("appchat/send", card); code(m) != 40008 {
		t.Fatalf("template_card to a chat: %v", m)
	}
	msg["chatid"] = "chat2"
	if m := e.call("appchat/send", msg); code(m) != 86003 {
		t.Fatalf("unknown chat: %v", m)
	}
	got := e.f.Messages("chat1")
	if len(got) != 1 || got[0].API != "appchat/send" || got[0].MsgType != "markdown" {
		t.Fatalf("chat1 saw %+v", got)
	}
}

var png = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 32)...)

func upload(t *testing.T, e *env, kind, filename string, data []byte) map[string]any {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("media", filename)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	u := e.srv.URL + "/cgi-bin/media/upload?access_token=" + url.QueryEscape(e.tok) + "&type=" + kind
	resp, err := http.Post(u, mw.FormDataContentType(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, resp)
}

func mediaGet(t *testing.T, e *env, id string, header http.Header) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/cgi-bin/media/get?access_token="+url.QueryEscape(e.tok)+"&media_id="+url.QueryEscape(id), nil)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestMedia(t *testing.T) {
	e := newEnv(t)
	m := upload(t, e, "image", "photo.png", png)
	if code(m) != 0 || m["type"] != "image" {
		t.Fatalf("upload: %v", m)
	}
	id := m["media_id"].(string)
	if _, ok := m["created_at"].(string); !ok {
		t.Fatalf("created_at is not a string: %v", m)
	}

	resp := mediaGet(t, e, id, nil)
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(got, png) {
		t.Fatalf("get: HTTP %d, %d bytes", resp.StatusCode, len(got))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "image/png" {
		t.Fatalf("Content-Type %q", ct)
	}
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="photo.png"` {
		t.Fatalf("Content-Disposition %q", cd)
	}

	resp = mediaGet(t, e, id, http.Header{"Range": {"bytes=0-3"}})
	got, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || string(got) != "\x89PNG" {
		t.Fatalf("range: HTTP %d %q", resp.StatusCode, got)
	}

	if m := decode(t, mediaGet(t, e, "unknown", nil)); code(m) != 40007 {
		t.Fatalf("unknown media: %v", m)
	}
	if m := upload(t, e, "file", "tiny.txt", []byte("12345")); code(m) != 40006 {
		t.Fatalf("5-byte upload: %v", m)
	}
	if m := upload(t, e, "image", "a.txt", []byte("not an image at all")); code(m) != 40004 {
		t.Fatalf("non-image as image: %v", m)
	}
	if m := upload(t, e, "sticker", "a.png", png); code(m) != 40005 {
		t.Fatalf("bad type: %v", m)
	}
	if m := upload(t, e, "voice", "v.amr", bytes.Repeat([]byte{1}, 2<<20+1)); code(m) != 45001 {
		t.Fatalf("voice over 2 MB: %v", m)
	}

	// AddMedia: what the simulator uses for members' photos.
	jpeg := append([]byte{0xff, 0xd8, 0xff, 0xe0}, bytes.Repeat([]byte{7}, 20)...)
	sim := e.f.AddMedia(jpeg, "image/jpeg", "现场.jpg")
	resp = mediaGet(t, e, sim, nil)
	got, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, jpeg) || resp.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("AddMedia round trip: %q %q", got, resp.Header.Get("Content-Type"))
	}
	// The image can be sent by media_id.
	img := map[string]any{"touser": "u1", "msgtype": "image", "agentid": agentID, "image": map[string]any{"media_id": sim}}
	if m := e.call("message/send", img); code(m) != 0 {
		t.Fatalf("send image: %v", m)
	}

	e.clk.Add(72 * time.Hour)
	e.tok = e.token()
	if m := decode(t, mediaGet(t, e, sim, nil)); code(m) != 40007 {
		t.Fatalf("media after 3 days: %v", m)
	}
	if m := e.call("message/send", img); code(m) != 40007 {
		t.Fatalf("send expired image: %v", m)
	}
}

func TestFailures(t *testing.T) {
	e := newEnv(t)
	e.f.FailNext(2, -1, "system busy")
	for i := 0; i < 2; i++ {
		if m := e.call("message/send", text("u1", "x")); code(m) != -1 || m["errmsg"] != "system busy" {
			t.Fatalf("injected %d: %v", i, m)
		}
	}
	if m := e.call("message/send", text("u1", "x")); code(m) != 0 {
		t.Fatalf("after injected failures: %v", m)
	}
	if got := len(e.f.Messages("u1")); got != 1 {
		t.Fatalf("u1 saw %d messages, want 1", got)
	}

	// gettoken is not affected by FailNext.
	e.f.FailNext(1, 45009, "")
	e.tok = e.token()
	if m := e.call("message/send", text("u1", "x")); code(m) != 45009 {
		t.Fatalf("FailNext after gettoken: %v", m)
	}

	// FailNextOn targets one API.
	e.f.FailNextOn("/cgi-bin/message/send", 1, 45033)
	if m := e.call("appchat/send", map[string]any{"chatid": "c", "msgtype": "text", "text": map[string]any{"content": "x"}}); code(m) != 0 {
		t.Fatalf("appchat with a message/send failure pending: %v", m)
	}
	if m := e.call("message/send", text("u1", "x")); code(m) != 45033 {
		t.Fatalf("FailNextOn: %v", m)
	}
	e.f.FailNextOn("gettoken", 1, 40001)
	if m := e.get("/cgi-bin/gettoken?" + url.Values{"corpid": {corpID}, "corpsecret": {secret}}.Encode()); code(m) != 40001 {
		t.Fatalf("FailNextOn gettoken: %v", m)
	}

	e.f.FailNextHTTP(1, http.StatusBadGateway)
	resp, err := http.Post(e.srv.URL+"/cgi-bin/message/send?access_token="+e.tok, "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("FailNextHTTP: HTTP %d", resp.StatusCode)
	}
	if m := e.call("message/send", text("u1", "x")); code(m) != 0 {
		t.Fatalf("after FailNextHTTP: %v", m)
	}

	reqs := e.f.Requests()
	var codes []int
	for _, r := range reqs {
		if r.API == "message/send" {
			codes = append(codes, r.ErrCode)
		}
	}
	if fmt.Sprint(codes) != "[-1 -1 0 45009 45033 0 0]" {
		t.Fatalf("recorded errcodes %v", codes)
	}
	if r := reqs[len(reqs)-2]; r.HTTPStatus != http.StatusBadGateway {
		t.Fatalf("HTTP failure not recorded: %+v", r)
	}
}

func TestDelayNext(t *testing.T) {
	e := newEnv(t)
	e.f.DelayNext(1, time.Minute)
	client := &http.Client{Timeout: 50 * time.Millisecond}
	body, _ := json.Marshal(text("u1", "slow"))
	start := time.Now()
	_, err := client.Post(e.srv.URL+"/cgi-bin/message/send?access_token="+e.tok, "application/json", bytes.NewReader(body))
	if err == nil {
		t.Fatal("the client's timeout did not fire")
	}
	// The delayed call was processed: the member got it, the client just
	// never heard back.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.f.Wait(ctx, func(f *wecomfake.Fake) bool { return len(f.Messages("u1")) == 1 }); err != nil {
		t.Fatal(err)
	}
	if m := e.call("message/send", text("u1", "fast")); code(m) != 0 {
		t.Fatalf("next call: %v", m)
	}
	if time.Since(start) > 30*time.Second {
		t.Fatal("the delay outlived the client's request")
	}
}

func TestPerMemberQuota(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 35; i++ {
		if m := e.call("message/send", text("u1", fmt.Sprint(i))); code(m) != 0 {
			t.Fatalf("send %d: %v", i, m)
		}
		e.clk.Add(time.Second)
	}
	if got := len(e.f.Messages("u1")); got != 30 {
		t.Fatalf("u1 saw %d, want 30", got)
	}
	if got := e.f.MaxPerMinute("u1"); got != 35 {
		t.Fatalf("MaxPerMinute %d, want 35", got)
	}
	dropped := 0
	for _, r := range e.f.Requests() {
		if r.Dropped {
			dropped++
		}
	}
	if dropped != 5 {
		t.Fatalf("%d dropped, want 5", dropped)
	}

	// Per member: u3 still gets a message u1 does not.
	m := e.call("message/send", text("u1|u3", "both"))
	last := e.f.Requests()[len(e.f.Requests())-1]
	if code(m) != 0 || !last.Dropped || fmt.Sprint(last.DroppedFor) != "[u1]" || fmt.Sprint(last.Recipients) != "[u3]" {
		t.Fatalf("mixed: %v %+v", m, last)
	}

	// A minute after the first 30 the member receives again.
	e.clk.Add(time.Minute)
	e.tok = e.token()
	e.call("message/send", text("u1", "later"))
	if got := e.f.Messages("u1"); got[len(got)-1].Dropped {
		t.Fatal("still dropped a minute later")
	}

	// A sender pacing itself at one message every 2 s stays at 30.
	for i := 0; i < 40; i++ {
		e.call("message/send", text("u2", "paced"))
		e.clk.Add(2 * time.Second)
	}
	if got := e.f.MaxPerMinute("u2"); got != 30 {
		t.Fatalf("paced MaxPerMinute %d, want 30", got)
	}
	if got := len(e.f.Messages("u2")); got != 40 {
		t.Fatalf("paced: u2 saw %d, want 40", got)
	}
	if got := e.f.MaxPerMinute("nobody"); got != 0 {
		t.Fatalf("MaxPerMinute of nobody: %d", got)
	}
}

func TestWait(t *testing.T) {
	e := newEnv(t)
	done := make(chan error, 1)
	go func() {
		done <- e.f.Wait(context.Background(), func(f *wecomfake.Fake) bool { return len(f.Messages("u1")) > 0 })
	}()
	if m := e.call("message/send", text("u1", "wake up")); code(m) != 0 {
		t.Fatal(m)
	}
	if err := <-done; err != nil {
		t.Fatalf("Wait: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := e.f.Wait(ctx, func(f *wecomfake.Fake) bool { return len(f.Messages("nobody")) > 0 })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait with no message: %v", err)
	}
}

func TestMessagesHandler(t *testing.T) {
	e := newEnv(t)
	e.call("message/send", text("u1|u2", "hello"))
	e.call("message/send", buttonCard("u1", "h1"))
	e.call("message/send", text("u2", "not for u1"))
	srv := httptest.NewServer(e.f.MessagesHandler())
	defer srv.Close()

	resp, err := http.Get(srv.URL + "?to=u1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("HTTP %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var got []struct {
		Seq     int64           `json:"seq"`
		At      string          `json:"at"`
		API     string          `json:"api"`
		To      string          `json:"to"`
		MsgType string          `json:"msgtype"`
		Body    json.RawMessage `json:"body"`
		TaskID  string          `json:"task_id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d messages, want 2", len(got))
	}
	if got[0].Seq >= got[1].Seq || got[0].API != "message/send" || got[0].To != "u1|u2" || got[0].MsgType != "text" || got[1].MsgType != "template_card" || got[1].TaskID != "h1" {
		t.Fatalf("entries %+v", got)
	}
	if _, err := time.Parse(time.RFC3339, got[0].At); err != nil {
		t.Fatalf("at: %v", err)
	}
	var body struct {
		Text struct{ Content string } `json:"text"`
	}
	if err := json.Unmarshal(got[0].Body, &body); err != nil || body.Text.Content != "hello" {
		t.Fatalf("body %s", got[0].Body)
	}

	resp2, err := http.Get(srv.URL + "?to=nobody")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp2.Body)
	resp2.Body.Close()
	if strings.TrimSpace(string(b)) != "[]" {
		t.Fatalf("empty answer %q", b)
	}

	resp3, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp3.Body.Close()
	var perr map[string]string
	if resp3.StatusCode != http.StatusBadRequest || json.NewDecoder(resp3.Body).Decode(&perr) != nil || perr["error"] == "" {
		t.Fatalf("missing to: HTTP %d %v", resp3.StatusCode, perr)
	}
}

func TestReset(t *testing.T) {
	e := newEnv(t)
	e.call("message/send", buttonCard("u1", "r1"))
	e.f.FailNext(5, -1, "")
	e.f.Reset()
	if n := len(e.f.Requests()); n != 0 {
		t.Fatalf("%d requests after Reset", n)
	}
	if m := e.call("message/send", text("u1", "x")); code(m) != 0 {
		t.Fatalf("failures survived Reset: %v", m)
	}
	if r := e.f.Requests(); len(r) != 1 || r[0].Seq != 1 {
		t.Fatalf("requests %+v", r)
	}
	if m := e.call("message/send", buttonCard("u1", "r1")); code(m) != 42014 {
		t.Fatalf("task_id forgotten by Reset: %v", m)
	}
}

func TestConcurrentSends(t *testing.T) {
	e := newEnv(t)
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			to := fmt.Sprintf("c%d", i%4)
			body, _ := json.Marshal(text(to, "x"))
			resp, err := http.Post(e.srv.URL+"/cgi-bin/message/send?access_token="+e.tok, "application/json", bytes.NewReader(body))
			if err == nil {
				resp.Body.Close()
			}
		}()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.f.Wait(ctx, func(f *wecomfake.Fake) bool { return len(f.Requests()) >= 21 }); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i := 0; i < 4; i++ {
		if n := len(e.f.Messages(fmt.Sprintf("c%d", i))); n != 5 {
			t.Fatalf("c%d got %d", i, n)
		}
	}
}

func TestAtAll(t *testing.T) {
	e := newEnv(t, func(o *wecomfake.Options) { o.KnownUsers = []string{"u1", "u2"} })
	if m := e.call("message/send", text("@all", "everyone")); code(m) != 0 {
		t.Fatalf("send: %v", m)
	}
	if len(e.f.Messages("u1")) != 1 || len(e.f.Messages("u2")) != 1 {
		t.Fatal("@all did not reach every known user")
	}
	plain := newEnv(t)
	plain.call("message/send", text("@all", "everyone"))
	if len(plain.f.Messages("@all")) != 1 {
		t.Fatal("@all without a roster is not recorded as @all")
	}
}

func TestOtherCardTypes(t *testing.T) {
	e := newEnv(t)
	card := func(tc string) string {
		return `{"touser":"u1","msgtype":"template_card","agentid":1000002,"template_card":` + tc + `}`
	}
	opts := `"option_list":[{"id":"a","text":"A"},{"id":"b","text":"B"}]`
	cases := []struct {
		name string
		card string
		want int
		code bool
	}{
		{"vote", `{"card_type":"vote_interaction","main_title":{"title":"T"},"task_id":"v1","checkbox":{"question_key":"q",` + opts + `},"submit_button":{"text":"Submit","key":"s"}}`, 0, true},
		{"vote no checkbox", `{"card_type":"vote_interaction","main_title":{"title":"T"},"task_id":"v2","submit_button":{"text":"Submit","key":"s"}}`, 42043, false},
		{"vote duplicate option", `{"card_type":"vote_interaction","main_title":{"title":"T"},"task_id":"v3","checkbox":{"question_key":"q","option_list":[{"id":"a","text":"A"},{"id":"a","text":"B"}]},"submit_button":{"text":"S","key":"s"}}`, 42040, false},
		{"vote no submit key", `{"card_type":"vote_interaction","main_title":{"title":"T"},"task_id":"v4","checkbox":{"question_key":"q",` + opts + `},"submit_button":{"text":"S"}}`, 42046, false},
		{"multiple", `{"card_type":"multiple_interaction","main_title":{"title":"T"},"task_id":"m1","select_list":[{"question_key":"q1",` + opts + `},{"question_key":"q2",` + opts + `}],"submit_button":{"text":"S","key":"s"}}`, 0, true},
		{"multiple same question", `{"card_type":"multiple_interaction","main_title":{"title":"T"},"task_id":"m2","select_list":[{"question_key":"q",` + opts + `},{"question_key":"q",` + opts + `}],"submit_button":{"text":"S","key":"s"}}`, 42043, false},
		{"multiple no selects", `{"card_type":"multiple_interaction","main_title":{"title":"T"},"task_id":"m3","select_list":[],"submit_button":{"text":"S","key":"s"}}`, 42047, false},
		{"multiple no submit text", `{"card_type":"multiple_interaction","main_title":{"title":"T"},"task_id":"m4","select_list":[{"question_key":"q",` + opts + `}],"submit_button":{"key":"s"}}`, 42049, false},
		{"news", `{"card_type":"news_notice","main_title":{"title":"T"},"card_action":{"type":1,"url":"https://x"},"card_image":{"url":"https://x/p.png"}}`, 0, false},
		{"news no image", `{"card_type":"news_notice","main_title":{"title":"T"},"card_action":{"type":1,"url":"https://x"}}`, 42044, false},
		{"news five verticals", `{"card_type":"news_notice","main_title":{"title":"T"},"card_action":{"type":1,"url":"https://x"},"card_image":{"url":"u"},"vertical_content_list":[{"title":"1"},{"title":"2"},{"title":"3"},{"title":"4"},{"title":"5"}]}`, 42036, false},
		{"button with selection", `{"card_type":"button_interaction","main_title":{"title":"T"},"task_id":"b1","button_selection":{"question_key":"q",` + opts + `},"button_list":[{"text":"OK","key":"ok"}]}`, 0, true},
		{"selection without options", `{"card_type":"button_interaction","main_title":{"title":"T"},"task_id":"b2","button_selection":{"question_key":"q","option_list":[]},"button_list":[{"text":"OK","key":"ok"}]}`, 42037, false},
		{"menu key conflict", `{"card_type":"text_notice","main_title":{"title":"T"},"card_action":{"type":1,"url":"https://x"},"task_id":"n1","action_menu":{"desc":"d","action_list":[{"text":"a","key":"k"},{"text":"b","key":"k"}]}}`, 42051, false},
		{"four jumps", `{"card_type":"text_notice","main_title":{"title":"T"},"card_action":{"type":1,"url":"https://x"},"jump_list":[{"title":"1","type":1,"url":"u"},{"title":"2","type":1,"url":"u"},{"title":"3","type":1,"url":"u"},{"title":"4","type":1,"url":"u"}]}`, 42042, false},
		{"miniprogram without appid", `{"card_type":"text_notice","main_title":{"title":"T"},"card_action":{"type":2}}`, 42030, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := e.call("message/send", card(tc.card))
			if code(m) != tc.want {
				t.Fatalf("errcode %d (%v), want %d", code(m), m["errmsg"], tc.want)
			}
			if rc, _ := m["response_code"].(string); (rc != "") != tc.code {
				t.Fatalf("response_code %q", rc)
			}
		})
	}
}

func TestRobotImage(t *testing.T) {
	e := newEnv(t)
	sum := md5.Sum(png)
	img := map[string]any{"msgtype": "image", "image": map[string]any{"base64": base64.StdEncoding.EncodeToString(png), "md5": hex.EncodeToString(sum[:])}}
	if m := e.postURL(e.srv.URL+"/cgi-bin/webhook/send?key=key-d1", img); code(m) != 0 {
		t.Fatalf("image: %v", m)
	}
	img["image"].(map[string]any)["md5"] = "00"
	if m := e.postURL(e.srv.URL+"/cgi-bin/webhook/send?key=key-d1", img); code(m) != 40058 {
		t.Fatalf("bad md5: %v", m)
	}
}
