package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"gridbot/bot"
	"gridbot/templates"
)

// A case reported in the evening is in the next morning's digest, overdue,
// with who holds it; the digests and the monthly pack reach every group
// chat through the outbox and the simulated WeCom, once, even when the
// reporter runs again or a second instance runs.
func TestStoryDailyDigest(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			zone := bot.Shanghai()
			w := newWorld(t, be, time.Date(2026, 11, 30, 18, 0, 0, 0, zone))
			k := w.report("zhuqiang", "dc01", "东盛路菜市场门口垃圾桶满了，垃圾溢出来了")
			chief := w.first(w.roster.Chiefs("dongcheng"))
			w.click(chief, w.lastCard(chief, "self"), "self")

			w.clk.Set(time.Date(2026, 12, 1, 8, 31, 0, 0, zone)) // the 1st: digests and the monthly pack
			w.sweep()                                            // the deadline (24:00) passed: overdue, escalated
			k = w.caseByNo(k.No)
			if !k.Overdue {
				t.Fatalf("%s is not overdue after the night", k.No)
			}
			tpl := templates.MustLoad()
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			a, err := newReporter(w.app.cfg, w.app.db, w.roster, tpl, w.clk, "instance-a", log, w.app.dispatcher.Notify)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := newReporter(w.app.cfg, w.app.db, w.roster, tpl, w.clk, "instance-b", log, nil)
			n, err := a.RunOnce(context.Background())
			if err != nil || n != 2*len(w.roster.Chats) {
				t.Fatalf("queued %d (%v), want a digest and a pack for each of %d chats", n, err, len(w.roster.Chats))
			}
			if n, err := b.RunOnce(context.Background()); n != 0 || err != nil {
				t.Fatalf("the second instance queued %d (%v)", n, err)
			}
			w.drain()
			if n, _ := a.RunOnce(context.Background()); n != 0 {
				t.Fatalf("a second run queued %d", n)
			}
			w.drain()

			// The demo config has no webhook key for the chats' robots: they get app chat messages.
			got := w.fake.Messages("DJdongcheng")
			if len(got) != 2 {
				t.Fatalf("东城's chat got %d messages, want the digest and the monthly pack", len(got))
			}
			var body struct {
				Markdown struct {
					Content string `json:"content"`
				} `json:"markdown"`
			}
			if err := json.Unmarshal(got[0].Body, &body); err != nil {
				t.Fatal(err)
			}
			digest := body.Markdown.Content
			for _, want := range []string{"东城管区城管日报 12月1日（星期二）", "**昨日** 新增 1 件", "逾期 1 件", k.No, "升级1次"} {
				if !strings.Contains(digest, want) {
					t.Errorf("the digest lacks %q:\n%s", want, digest)
				}
			}
			if err := json.Unmarshal(got[1].Body, &body); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(body.Markdown.Content, "东城管区月例会材料（2026年11月）") || !strings.Contains(body.Markdown.Content, "**考核**") {
				t.Errorf("the monthly pack:\n%s", body.Markdown.Content)
			}
			if got := w.fake.Messages("DJcommittee"); len(got) != 2 {
				t.Errorf("the committee's chat got %d messages, want 2", len(got))
			}
		})
	}
}
