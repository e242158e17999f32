package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"gridbot/bot"
	"gridbot/bot/roster"
)

// A card of a cancelled draft cannot file the next draft.
func TestStoryOldDraftCardIsStale(t *testing.T) {
	forWorlds(t, func(t *testing.T, w *world) {
		lat, lng := w.gridPoint("dc01")
		w.location("zhuqiang", lat, lng, "东盛路")
		w.text("zhuqiang", "垃圾桶满了溢出来")
		old := w.lastCard("zhuqiang", "confirm")
		w.text("zhuqiang", "取消")
		w.text("zhuqiang", "有人在路边摆摊占道经营")
		w.lastCard("zhuqiang", "")
		w.click("zhuqiang", old, "confirm")
		if !strings.Contains(w.lastText("zhuqiang"), "已过期") {
			t.Fatalf("old card: %q", w.lastText("zhuqiang"))
		}
		if _, total, _ := w.app.db.Cases().List(t.Context(), bot.CaseFilter{}); total != 0 {
			t.Fatalf("an old card filed %d case(s)", total)
		}
	})
}

// Text first, then the location: a new card comes, and it files.
func TestStoryTextThenLocation(t *testing.T) {
	forWorlds(t, func(t *testing.T, w *world) {
		w.text("huyumei", "垃圾桶满了溢出来没人清理")
		first := w.lastCard("huyumei", "")
		lat, lng := w.gridPoint("dc02")
		w.location("huyumei", lat, lng, "东盛小区南门")
		card := w.lastCard("huyumei", "")
		if card.TaskID == first.TaskID {
			t.Fatal("no new card after the location")
		}
		w.photo("huyumei") // a photo keeps the card valid
		if _, ok := card.Buttons["confirm"]; !ok {
			t.Fatalf("card %+v", card)
		}
		w.click("huyumei", card, "confirm")
		k := w.newestCase()
		if k.Place != "东盛小区南门" || k.Grid != "dc02" {
			t.Fatalf("case %+v", k)
		}
		ps, _ := w.app.db.Cases().Photos(t.Context(), k.ID)
		if len(ps) != 1 {
			t.Fatalf("photos %+v", ps)
		}
	})
}

// While a case waits for verification, its reminder goes to the inspector
// who holds it, not to whoever handled it.
func TestStoryVerifyingReminderGoesToInspector(t *testing.T) {
	forWorlds(t, func(t *testing.T, w *world) {
		k := w.report("zhuqiang", "dc01", "垃圾桶满了溢出来")
		chief := w.first(w.roster.Chiefs("dongcheng"))
		w.click(chief, w.lastCard(chief, "self"), "self")
		w.click(chief, w.lastCard(chief, "handled"), "handled")
		w.text(chief, "跳过")
		w.wantStatus(k.No, bot.StVerifying)
		before := len(w.texts(chief))
		w.clk.Set(time.Date(2026, 12, 1, 22, 0, 0, 0, bot.Shanghai()))
		w.sweep()
		if !strings.Contains(w.lastText("zhuqiang"), "提醒") {
			t.Fatalf("inspector: %q", w.lastText("zhuqiang"))
		}
		for _, s := range w.texts(chief)[before:] {
			if strings.Contains(s, "提醒") {
				t.Fatalf("the chief was reminded of a case the inspector holds: %q", s)
			}
		}
	})
}

// In a grid with no inspector (a vacancy), the station verifies on site.
func TestStoryNoInspectorStationVerifies(t *testing.T) {
	yaml := bytes.Replace(roster.DemoYAML(), []byte("  - {userid: luolin, name: 罗琳, phone: \"13853100007\", roles: [inspector], grid: dc04}\n"), nil, 1)
	if bytes.Equal(yaml, roster.DemoYAML()) {
		t.Fatal("the demo roster changed: update this test")
	}
	w := newWorldWithRoster(t, backend{name: "sqlite"}, morning, yaml)
	k := w.report("zhangwei", "dc04", "路边垃圾桶满了溢出来")
	chief := w.first(w.roster.Chiefs("dongcheng"))
	w.click(chief, w.lastCard(chief, "self"), "self")
	w.click(chief, w.lastCard(chief, "handled"), "handled")
	w.text(chief, "跳过")
	w.click(chief, w.lastCard(chief, "verify_ok"), "verify_ok")
	w.text(chief, "跳过")
	w.wantStatus(k.No, bot.StClosed)
}
