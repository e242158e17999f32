package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"gridbot/bot"
	"gridbot/bot/roster"
)

// 10:00 on a working morning in Jinan.
var morning = time.Date(2026, 12, 1, 10, 0, 0, 0, bot.Shanghai())

func forWorlds(t *testing.T, f func(t *testing.T, w *world)) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) { f(t, newWorld(t, be, morning)) })
	}
}

// (a) A patrol report handled by the station and closed after the grid
// inspector verifies on site.
func TestStoryStationHandles(t *testing.T) {
	forWorlds(t, func(t *testing.T, w *world) {
		k := w.report("zhuqiang", "dc01", "东盛路菜市场门口垃圾桶满了，垃圾溢出来没人清理")
		if k.Status != bot.StReported || k.District != "dongcheng" || k.Grid != "dc01" || k.Reporter != "zhuqiang" {
			t.Fatalf("filed case = %+v", k)
		}
		if !strings.HasPrefix(k.No, "DJ-20261201-") {
			t.Fatalf("case number %s", k.No)
		}
		if !strings.Contains(w.lastText("zhuqiang"), k.No) {
			t.Fatalf("reporter not told the number: %q", w.texts("zhuqiang"))
		}
		chief := w.first(w.roster.Chiefs("dongcheng"))
		w.click(chief, w.lastCard(chief, "self"), "self")
		k = w.wantStatus(k.No, bot.StStation)
		if k.Assignee != chief {
			t.Fatalf("assignee %s, want %s", k.Assignee, chief)
		}
		w.click(chief, w.lastCard(chief, "handled"), "handled")
		if !strings.Contains(w.lastText(chief), "处置后的现场照片") {
			t.Fatalf("no after-photo asked: %q", w.lastText(chief))
		}
		w.wantStatus(k.No, bot.StStation) // waits for the photo
		after := w.photo(chief)
		w.wantStatus(k.No, bot.StVerifying)
		w.click("zhuqiang", w.lastCard("zhuqiang", "verify_ok"), "verify_ok")
		w.text("zhuqiang", "跳过")
		k = w.wantStatus(k.No, bot.StClosed)
		if k.CloseCode != bot.CloseResolved || k.ClosedAt.IsZero() {
			t.Fatalf("closed case = %+v", k)
		}
		if !strings.Contains(w.lastText("zhuqiang"), "已结案") {
			t.Fatalf("reporter not told of the close: %q", w.lastText("zhuqiang"))
		}
		var actions []string
		for _, e := range w.events(k.ID) {
			if !e.Denied {
				actions = append(actions, string(e.Action))
			}
		}
		if got := strings.Join(actions, ","); got != "report,self,handled,verify_ok" {
			t.Fatalf("events %s", got)
		}
		ps, _ := w.app.db.Cases().Photos(context.Background(), k.ID)
		if len(ps) != 2 || ps[1].MediaID != after || ps[1].Kind != "after" {
			t.Fatalf("photos %+v", ps)
		}
		if ps[0].File == "" || ps[1].File == "" {
			t.Fatalf("photos not downloaded: %+v", ps)
		}
		// The API shows it, with its events.
		resp, err := http.Get(w.app.base + "/api/cases/" + k.No)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Case   struct{ Status, No string }
			Events []struct{ Action string }
			Photos []struct{ URL string }
		}
		json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if got.Case.Status != "closed" || len(got.Events) != 4 || len(got.Photos) != 2 || got.Photos[0].URL == "" {
			t.Fatalf("API answered %+v", got)
		}
	})
}

// (b) The chief calls the guidance officer of the category's department.
func TestStoryGuidanceOfficer(t *testing.T) {
	forWorlds(t, func(t *testing.T, w *world) {
		k := w.report("huyumei", "dc02", "小区门口垃圾堆了好几天没人清运，味道很大")
		chief := w.first(w.roster.Chiefs("dongcheng"))
		w.click(chief, w.lastCard(chief, "call_guidance"), "call_guidance")
		k = w.wantStatus(k.No, bot.StGuidance)
		officer := w.first(w.roster.Guidance("dongcheng", roster.Dept(k.Dept)))
		if k.Assignee != officer {
			t.Fatalf("assignee %s, want the %s officer %s", k.Assignee, k.Dept, officer)
		}
		w.click(officer, w.lastCard(officer, "accept"), "accept")
		w.click(officer, w.lastCard(officer, "handled"), "handled")
		w.photo(officer)
		w.wantStatus(k.No, bot.StVerifying)
		w.click("huyumei", w.lastCard("huyumei", "verify_ok"), "verify_ok")
		w.photo("huyumei")
		k = w.wantStatus(k.No, bot.StClosed)
		if k.Rework != 0 || k.Overdue {
			t.Fatalf("case = %+v", k)
		}
	})
}

// (c) Escalated to the committee, handed to a partner body, its reply
// recorded, verified, closed.
func TestStoryCommitteePartner(t *testing.T) {
	forWorlds(t, func(t *testing.T, w *world) {
		k := w.report("guopeng", "dc03", "朝阳路有辆车长期停在消防通道上，挡着路")
		chief := w.first(w.roster.Chiefs("dongcheng"))
		w.click(chief, w.lastCard(chief, "escalate"), "escalate")
		w.wantStatus(k.No, bot.StCommittee)
		members := w.roster.Committee()
		if len(members) < 2 {
			t.Fatal("the demo committee has fewer than 2 members")
		}
		for _, m := range members {
			w.lastCard(m.UserID, "menu_transfer") // everyone of the office got it
		}
		k1 := members[0].UserID
		w.click(k1, w.lastCard(k1, "menu_transfer"), "menu_transfer")
		choice := w.lastCard(k1, "transfer:traffic")
		w.click(k1, choice, "transfer:traffic")
		k = w.wantStatus(k.No, bot.StPartner)
		if k.Partner != "traffic" || k.Assignee != k1 {
			t.Fatalf("case = %+v", k)
		}
		// The other member's card is now stale: a tap changes nothing.
		k2 := members[1].UserID
		w.click(k2, w.lastCard(k2, "menu_transfer"), "escalate_up")
		w.wantStatus(k.No, bot.StPartner)
		w.click(k1, w.lastCard(k1, "reply"), "reply")
		w.text(k1, "交警中队已将车辆拖离")
		w.wantStatus(k.No, bot.StVerifying)
		w.click("guopeng", w.lastCard("guopeng", "verify_ok"), "verify_ok")
		w.text("guopeng", "跳过")
		w.wantStatus(k.No, bot.StClosed)
		notes := ""
		for _, e := range w.events(k.ID) {
			notes += e.Note + ";"
		}
		if !strings.Contains(notes, "交警中队已将车辆拖离") {
			t.Fatalf("the partner's reply is not on the case: %s", notes)
		}
	})
}

// (d) Verification fails once: back to the handler, rework counted, then closed.
func TestStoryRework(t *testing.T) {
	forWorlds(t, func(t *testing.T, w *world) {
		k := w.report("luolin", "dc04", "路边垃圾桶满了溢出来了")
		chief := w.first(w.roster.Chiefs("dongcheng"))
		w.click(chief, w.lastCard(chief, "self"), "self")
		w.click(chief, w.lastCard(chief, "handled"), "handled")
		w.text(chief, "跳过")
		w.click("luolin", w.lastCard("luolin", "verify_fail"), "verify_fail")
		w.text("luolin", "地上还有垃圾")
		k = w.wantStatus(k.No, bot.StStation)
		if k.Rework != 1 {
			t.Fatalf("rework = %d", k.Rework)
		}
		if !strings.Contains(strings.Join(w.texts(chief), "|"), "核查未通过") {
			t.Fatalf("the handler was not told: %q", w.texts(chief))
		}
		w.click(chief, w.lastCard(chief, "handled"), "handled")
		w.photo(chief)
		w.click("luolin", w.lastCard("luolin", "verify_ok"), "verify_ok")
		w.text("luolin", "跳过")
		k = w.wantStatus(k.No, bot.StClosed)
		if k.Rework != 1 {
			t.Fatalf("rework after close = %d", k.Rework)
		}
	})
}

// (e) A small case goes overdue as the clock moves: one reminder, one
// escalation, the chiefs told once — with two sweepers and repeated sweeps.
func TestStoryOverdue(t *testing.T) {
	forWorlds(t, func(t *testing.T, w *world) {
		k := w.report("zhaolei", "xc01", "柳园路口有人乱扔垃圾，一地的垃圾袋")
		if k.Size != bot.Small || !k.DueAt.Equal(time.Date(2026, 12, 2, 0, 0, 0, 0, bot.Shanghai())) {
			t.Fatalf("size %s due %s", k.Size, k.DueAt)
		}
		chiefs := w.roster.Chiefs("xicheng")
		before := map[string]int{}
		for _, c := range chiefs {
			before[c.UserID] = len(w.texts(c.UserID))
		}
		w.clk.Set(time.Date(2026, 12, 1, 21, 0, 0, 0, bot.Shanghai()))
		if n := w.sweep(); n != 0 {
			t.Fatalf("swept %d before the reminder time", n)
		}
		w.clk.Set(time.Date(2026, 12, 1, 21, 30, 0, 0, bot.Shanghai())) // past 80% of 14 h
		w.sweep()
		w.sweep()
		s := w.app.sweeper
		other := &bot.Sweeper{Cases: s.Cases, Leases: s.Leases, Service: s.Service, Clock: s.Clock, Owner: "another-instance", Every: s.Every}
		other.RunOnce(context.Background())
		w.drain()
		for _, c := range chiefs {
			n := 0
			for _, s := range w.texts(c.UserID)[before[c.UserID]:] {
				if strings.Contains(s, "提醒") {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("%s got %d reminders, want 1: %q", c.UserID, n, w.texts(c.UserID))
			}
		}
		w.clk.Set(time.Date(2026, 12, 2, 0, 1, 0, 0, bot.Shanghai()))
		w.sweep()
		w.sweep()
		other.RunOnce(context.Background())
		w.drain()
		k = w.caseByNo(k.No)
		officer := w.first(w.roster.Guidance("xicheng", roster.Dept(k.Dept)))
		if !k.Overdue || k.Escalations != 1 || k.Status != bot.StGuidance || k.Assignee != officer {
			t.Fatalf("after the deadline: %+v", k)
		}
		for _, c := range chiefs {
			n := 0
			for _, s := range w.texts(c.UserID) {
				if strings.Contains(s, "逾期") {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("%s told %d times of the overdue case", c.UserID, n)
			}
		}
		w.lastCard(officer, "accept")
		if !k.DueAt.After(w.clk.Now()) {
			t.Fatalf("no new deadline after escalation: %s", k.DueAt)
		}
	})
}

// (f) A tap by the wrong person, on a stale card, a retried tap and a
// second tap: nothing changes twice, and refused taps are audited.
func TestStoryWrongClicks(t *testing.T) {
	forWorlds(t, func(t *testing.T, w *world) {
		k := w.report("zhuqiang", "dc01", "垃圾桶满了溢出")
		chiefs := w.roster.Chiefs("dongcheng")
		chief, deputy := chiefs[0].UserID, chiefs[1].UserID
		card := w.lastCard(chief, "self")

		// The wrong person taps the chief's card.
		w.post(w.clickEvent("zhuqiang", card, "self"))
		w.wantStatus(k.No, bot.StReported)
		if !strings.Contains(w.lastText("zhuqiang"), "不由您办理") {
			t.Fatalf("no refusal: %q", w.lastText("zhuqiang"))
		}

		// The chief taps; WeCom delivers the same callback twice.
		ev := w.clickEvent(chief, card, "self")
		w.post(ev)
		w.post(ev)
		k = w.wantStatus(k.No, bot.StStation)
		if k.Version != 2 {
			t.Fatalf("version %d after one tap delivered twice", k.Version)
		}
		// A second tap on the same card (a new callback) changes nothing.
		w.click(chief, card, "escalate")
		k = w.wantStatus(k.No, bot.StStation)
		if k.Version != 2 || !strings.Contains(w.lastText(chief), "已处理过") {
			t.Fatalf("second tap: version %d, %q", k.Version, w.lastText(chief))
		}
		// The deputy's card went stale when the chief acted.
		w.click(deputy, w.lastCard(deputy, "escalate"), "escalate")
		k = w.wantStatus(k.No, bot.StStation)
		if k.Version != 2 || !strings.Contains(w.lastText(deputy), "站内处置中") {
			t.Fatalf("stale tap: version %d, %q", k.Version, w.lastText(deputy))
		}
		denied := 0
		for _, e := range w.events(k.ID) {
			if e.Denied {
				denied++
			}
		}
		if denied != 1 {
			t.Fatalf("%d refused attempts audited, want 1 (the wrong person)", denied)
		}
		// The tapped card was greyed out in place with who did what.
		updates := 0
		for _, r := range w.fake.Requests() {
			if r.API == "update_template_card" && r.To == chief && r.ErrCode == 0 {
				updates++
			}
		}
		if updates != 2 {
			t.Fatalf("%d card updates for the chief, want 2 (the tap and the second tap)", updates)
		}
	})
}

// (g) A near-duplicate report is linked to the open case (附议) instead of
// filing a new one.
func TestStoryDuplicate(t *testing.T) {
	forWorlds(t, func(t *testing.T, w *world) {
		k := w.report("zhuqiang", "dc01", "垃圾桶满了垃圾溢出来了没人清理")
		lat, lng := w.gridPoint("dc01")
		w.location("huyumei", lat+0.0001, lng, "同一个路口") // about 11 m away
		w.text("huyumei", "这里垃圾桶满了，垃圾都溢出来了")
		card := w.lastCard("huyumei", "")
		if _, ok := card.Buttons["confirm"]; !ok && card.Buttons["new"] == "" {
			for key := range card.Buttons {
				if strings.HasPrefix(key, "pick:"+k.Code) {
					w.click("huyumei", card, key)
					card = w.lastCard("huyumei", "")
				}
			}
		}
		var support string
		for key := range card.Buttons {
			if strings.HasPrefix(key, "support:") {
				support = key
			}
		}
		if support == "" {
			t.Fatalf("no 附议 offered: %+v", card)
		}
		w.click("huyumei", card, support)
		k = w.caseByNo(k.No)
		if k.Supports != 1 {
			t.Fatalf("supports = %d", k.Supports)
		}
		list, total, _ := w.app.db.Cases().List(context.Background(), bot.CaseFilter{})
		if total != 1 || len(list) != 1 {
			t.Fatalf("%d cases, want 1", total)
		}
		if !strings.Contains(w.lastText("huyumei"), "附议") {
			t.Fatalf("no ack: %q", w.lastText("huyumei"))
		}
	})
}

// (h) A resident's complaint filed at the station: the first receiver owns
// the call back, and the resident's phone appears in nothing sent to anyone
// outside the case.
func TestStoryResidentPrivacy(t *testing.T) {
	forWorlds(t, func(t *testing.T, w *world) {
		const phone = "13800138000"
		staff := w.first(w.roster.StationStaff("dongcheng"))
		lat, lng := w.gridPoint("dc01")
		w.location(staff, lat, lng, "东盛小区北门")
		w.text(staff, "居民反映 王大爷 "+phone+" 小区北门垃圾三天没人清运")
		card := w.lastCard(staff, "")
		if _, ok := card.Buttons["confirm"]; !ok {
			for key := range card.Buttons {
				if strings.HasPrefix(key, "pick:") {
					w.click(staff, card, key)
					break
				}
			}
			card = w.lastCard(staff, "confirm")
		}
		w.click(staff, card, "confirm")
		k := w.newestCase()
		if k.Source != bot.SrcResident || k.Receiver != staff || k.ResidentPhone != phone {
			t.Fatalf("case = %+v", k)
		}
		chief := w.first(w.roster.Chiefs("dongcheng"))
		w.click(chief, w.lastCard(chief, "call_guidance"), "call_guidance")
		k = w.caseByNo(k.No)
		officer := k.Assignee
		w.click(officer, w.lastCard(officer, "handled"), "handled")
		w.text(officer, "跳过")
		inspector := w.first(w.roster.InspectorsOf("dc01"))
		w.click(inspector, w.lastCard(inspector, "verify_ok"), "verify_ok")
		w.text(inspector, "跳过")
		w.wantStatus(k.No, bot.StClosed)
		if !strings.Contains(w.lastText(staff), phone) || !strings.Contains(w.lastText(staff), "回访") {
			t.Fatalf("the first receiver was not asked to call back: %q", w.lastText(staff))
		}
		// Scan everything the fake WeCom received.
		allowed := map[string]bool{staff: true, officer: true} // receiver and reporter; the officer held it
		for _, r := range w.fake.Requests() {
			if !strings.Contains(string(r.Body), phone) {
				continue
			}
			if r.API != "message/send" || !allowed[r.To] {
				t.Errorf("the resident's phone went to %s via %s: %s", r.To, r.API, r.Body)
			}
		}
		masked := false
		for _, r := range w.fake.Messages(chief) {
			masked = masked || strings.Contains(string(r.Body), "138****8000")
		}
		if !masked {
			t.Error("the chief's card does not show the masked phone")
		}
	})
}
