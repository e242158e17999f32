package main

import (
	"fmt"
	"testing"
	"time"

	"gridbot/bot"
)

// BenchmarkReportToCase is the whole report path on SQLite: an inspector's
// location, text and tap on 确认上报 as three signed, encrypted callbacks
// over HTTP, each committed to the inbox and processed (draft, classifier,
// grid lookup, duplicate check, case row, event, cards), and the outbox
// sent to the simulated WeCom.
func BenchmarkReportToCase(b *testing.B) {
	w := newWorld(b, backend{name: "sqlite"}, time.Now())
	// Measure gridbot, not WeCom's pacing: the per-app cap (real time) is
	// off, and the clock moves 3 s a report so that no member gets over 30
	// messages a minute (the fake drops those, as WeCom does).
	w.app.dispatcher.AppRate = nil
	inspectors := w.roster.WithRole("inspector")
	texts := []string{"垃圾桶满了溢出来没人清理", "路边有人摆摊卖菜占道", "井盖丢了很危险", "路灯不亮了", "绿化带里被人种了菜", "墙上贴满了小广告"}
	center := w.roster.Subdistrict.Center
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w.clk.Set(w.clk.Now().Add(3 * time.Second))
		user := inspectors[i%len(inspectors)].UserID
		// A lattice of points 60 m apart, so no report is a near-duplicate.
		lat := center.Lat() - 0.012 + float64(i/60%40)*0.00055
		lng := center.Lon() - 0.02 + float64(i%60)*0.00068
		w.location(user, lat, lng, fmt.Sprintf("测试点%d", i))
		w.text(user, texts[i%len(texts)])
		card := w.lastCard(user, "")
		key := "confirm"
		if _, ok := card.Buttons[key]; !ok {
			for k := range card.Buttons {
				if len(k) > 5 && k[:5] == "pick:" {
					key = k
				}
			}
		}
		w.click(user, card, key)
		if key != "confirm" {
			w.click(user, w.lastCard(user, "confirm"), "confirm")
		}
	}
	b.StopTimer()
	if got := w.newestCase(); got.Status != bot.StReported {
		b.Fatalf("last case %+v", got)
	}
	_, total, _ := w.app.db.Cases().List(b.Context(), bot.CaseFilter{})
	if total != b.N {
		b.Fatalf("%d cases for %d reports", total, b.N)
	}
}
