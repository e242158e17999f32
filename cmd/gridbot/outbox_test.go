package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"gridbot/bot"
	"gridbot/bot/wecom/wecomfake"
)

func count(reqs []wecomfake.Request, api string) int {
	n := 0
	for _, r := range reqs {
		if r.API == api {
			n++
		}
	}
	return n
}

// WeCom's failures are sorted: frequency limits and 5xx are retried with
// backoff, a bad token is refreshed once, a permanent error is a dead letter.
func TestOutboundFailures(t *testing.T) {
	cases := []struct {
		name      string
		inject    func(f *wecomfake.Fake)
		delivered int
		state     string
		attempts  int
		tokens    int // gettoken calls
	}{
		{"45009 then ok", func(f *wecomfake.Fake) { f.FailNextOn("message/send", 1, 45009) }, 1, bot.OutSent, 1, 1},
		{"-1 busy twice then ok", func(f *wecomfake.Fake) { f.FailNextOn("message/send", 2, -1) }, 1, bot.OutSent, 2, 1},
		{"40014 refreshes the token", func(f *wecomfake.Fake) { f.FailNextOn("message/send", 1, 40014) }, 1, bot.OutSent, 0, 2},
		{"HTTP 500 then ok", func(f *wecomfake.Fake) { f.FailNextHTTPOn("message/send", 1, 500) }, 1, bot.OutSent, 1, 1},
		{"permanent error", func(f *wecomfake.Fake) { f.FailNextOn("message/send", 1, 40003) }, 0, bot.OutDead, 1, 1},
	}
	for _, be := range backends(t) {
		for _, c := range cases {
			t.Run(be.name+"/"+c.name, func(t *testing.T) {
				app := startApp(t, be, appOpts{})
				c.inject(app.fake)
				if resp := app.post(textXML("zhaoliu", "40004", "垃圾满了")); resp.StatusCode != 200 {
					t.Fatalf("callback answered %d", resp.StatusCode)
				}
				app.eventually("the outbox item to settle", func() bool {
					items := app.outbox("")
					return len(items) == 1 && (items[0].State == bot.OutSent || items[0].State == bot.OutDead)
				})
				item := app.outbox("")[0]
				if item.State != c.state || item.Attempts != c.attempts {
					t.Fatalf("outbox item state %s attempts %d (last error %q), want %s %d", item.State, item.Attempts, item.LastError, c.state, c.attempts)
				}
				if got := len(app.fake.Messages("zhaoliu")); got != c.delivered {
					t.Fatalf("delivered %d times, want %d", got, c.delivered)
				}
				if got := count(app.fake.Requests(), "gettoken"); got != c.tokens {
					t.Fatalf("gettoken called %d times, want %d", got, c.tokens)
				}
				if c.state == bot.OutDead {
					if item.ErrCode != 40003 {
						t.Fatalf("dead letter errcode %d, want 40003", item.ErrCode)
					}
					_, metrics := app.get("/metrics")
					for _, want := range []string{`gridbot_outbox_items{state="dead"} 1`, `gridbot_outbox_attempts_total{kind="message",result="dead"} 1`} {
						if !strings.Contains(metrics, want) {
							t.Errorf("metrics lack %s", want)
						}
					}
					// Once the cause is fixed, `gridbot requeue` sends it.
					var out bytes.Buffer
					if err := run(context.Background(), []string{"requeue", "-config", app.configPath}, app.getenv, &out, io.Discard); err != nil {
						t.Fatal(err)
					}
					if !strings.Contains(out.String(), "requeued 1 outbox item") {
						t.Fatalf("requeue: %s", out.String())
					}
					app.waitFake("the requeued message", func(f *wecomfake.Fake) bool { return len(f.Messages("zhaoliu")) == 1 })
				}
			})
		}
	}
}

// A call that times out is tried again; WeCom may have accepted the first,
// so the member sees the message at least once.
func TestOutboundTimeoutIsRetried(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			app := startApp(t, be, appOpts{})
			app.fake.DelayNextOn("message/send", 1, 30*time.Second)
			if resp := app.post(textXML("sunqi", "50005", "占道经营")); resp.StatusCode != 200 {
				t.Fatalf("callback answered %d", resp.StatusCode)
			}
			app.eventually("the retried send", func() bool {
				items := app.outbox(bot.OutSent)
				return len(items) == 1
			})
			item := app.outbox(bot.OutSent)[0]
			if item.Attempts < 1 {
				t.Fatalf("attempts %d after a timeout, want ≥ 1", item.Attempts)
			}
			if len(app.fake.Messages("sunqi")) < 1 {
				t.Fatal("the member got nothing")
			}
		})
	}
}
