package main

import (
	"strings"
	"testing"

	"gridbot/bot"
)

// The commands by text and by app-menu key: 帮助, 上报, 取消, 我的待办,
// 查询 <编号>; and a stranger's message is answered with one line only.
func TestStoryCommands(t *testing.T) {
	forWorlds(t, func(t *testing.T, w *world) {
		w.text("zhuqiang", "帮助")
		if !strings.Contains(w.lastText("zhuqiang"), "朱强，您好") {
			t.Fatalf("help: %q", w.lastText("zhuqiang"))
		}
		w.post(bot.Inbound{Kind: bot.KindClick, MsgType: "event", Event: "click", EventKey: "report", UserID: "zhuqiang"})
		if !strings.Contains(w.lastText("zhuqiang"), "顺序不限") {
			t.Fatalf("menu report: %q", w.lastText("zhuqiang"))
		}
		w.text("zhuqiang", "路灯不亮了")
		w.text("zhuqiang", "取消")
		if w.lastText("zhuqiang") != "已取消本次上报。" {
			t.Fatalf("cancel: %q", w.lastText("zhuqiang"))
		}
		k := w.report("zhuqiang", "dc01", "垃圾桶满了溢出来")
		chief := w.first(w.roster.Chiefs("dongcheng"))
		w.text(chief, "我的待办")
		if !strings.Contains(w.lastText(chief), k.No) {
			t.Fatalf("the chief's todo lacks %s: %q", k.No, w.lastText(chief))
		}
		w.post(bot.Inbound{Kind: bot.KindClick, MsgType: "event", Event: "click", EventKey: "todo", UserID: "huyumei"})
		if w.lastText("huyumei") != "您目前没有待办。" {
			t.Fatalf("an inspector with nothing to do: %q", w.lastText("huyumei"))
		}
		w.text("huyumei", "查询 "+strings.ToLower(k.No))
		if !strings.Contains(w.lastText("huyumei"), "待先期处置") {
			t.Fatalf("query: %q", w.lastText("huyumei"))
		}
		w.text("huyumei", "查询 DJ-20990101-001")
		if !strings.Contains(w.lastText("huyumei"), "没有找到") {
			t.Fatalf("query of nothing: %q", w.lastText("huyumei"))
		}
		before := len(w.fake.Requests())
		w.text("stranger", "你好")
		if got := w.texts("stranger"); len(got) != 1 || !strings.Contains(got[0], "不在本系统名单") {
			t.Fatalf("stranger got %q", got)
		}
		if n := len(w.fake.Requests()) - before; n != 1 {
			t.Fatalf("a stranger's message caused %d calls, want 1", n)
		}
	})
}

// On-the-spot handling closes a small case at once with its before and
// after photos; the chief switches size; a case closes as not ours with the
// owner named, and another as a duplicate of the first.
func TestStoryOnSpotSizeAndCloseCodes(t *testing.T) {
	forWorlds(t, func(t *testing.T, w *world) {
		lat, lng := w.gridPoint("dc01")
		w.photo("zhuqiang")
		w.photo("zhuqiang")
		w.location("zhuqiang", lat, lng, "东盛路")
		w.text("zhuqiang", "路边垃圾桶满了溢出来，我顺手清理了")
		card := w.lastCard("zhuqiang", "")
		if _, ok := card.Buttons["onspot"]; !ok {
			t.Fatalf("no on-the-spot button with two photos of a small case: %+v", card)
		}
		w.click("zhuqiang", card, "onspot")
		k := w.newestCase()
		if k.Status != bot.StClosed || !k.OnSpot || k.CloseCode != bot.CloseResolved {
			t.Fatalf("on-spot case = %+v", k)
		}
		if !strings.Contains(w.lastText("zhuqiang"), "当场处置") {
			t.Fatalf("no ack: %q", w.lastText("zhuqiang"))
		}

		k = w.report("huyumei", "dc02", "小区门口垃圾桶满了")
		chief := w.first(w.roster.Chiefs("dongcheng"))
		w.click(chief, w.lastCard(chief, "size:big"), "size:big")
		k = w.caseByNo(k.No)
		if k.Size != bot.Big || !k.DueAt.Equal(k.CreatedAt.Add(7*24*3600e9)) {
			t.Fatalf("after 改为大事: %s due %s", k.Size, k.DueAt)
		}
		w.click(chief, w.lastCard(chief, "menu_close"), "menu_close")
		w.click(chief, w.lastCard(chief, "close:not_ours"), "close:not_ours")
		w.wantStatus(k.No, bot.StReported)
		w.text(chief, "小区物业公司")
		k = w.wantStatus(k.No, bot.StClosed)
		if k.CloseCode != bot.CloseNotOurs || k.Partner != "小区物业公司" {
			t.Fatalf("not ours: %+v", k)
		}

		first := w.report("guopeng", "dc03", "朝阳路井盖丢了")
		// The same again at the same spot: the bot offers 附议; the
		// inspector files it anyway (仍要新建), and the committee closes it
		// as a duplicate.
		plat, plng := w.gridPoint("dc03")
		w.location("guopeng", plat, plng, "测试路口")
		w.text("guopeng", "这个路口的井盖不见了")
		offer := w.lastCard("guopeng", "new")
		w.click("guopeng", offer, "new")
		w.click("guopeng", w.lastCard("guopeng", "confirm"), "confirm")
		dup := w.newestCase()
		if dup.No == first.No {
			t.Fatalf("no second case was filed: %q", w.texts("guopeng"))
		}
		committee := w.first(w.roster.Committee())
		w.click(chief, w.lastCard(chief, "escalate"), "escalate")
		w.click(committee, w.lastCard(committee, "menu_close"), "menu_close")
		w.click(committee, w.lastCard(committee, "close:duplicate"), "close:duplicate")
		w.text(committee, "DJ-20990101-001")
		if !strings.Contains(w.lastText(committee), "没有找到") {
			t.Fatalf("a wrong number was accepted: %q", w.lastText(committee))
		}
		w.text(committee, first.No)
		k = w.wantStatus(dup.No, bot.StClosed)
		if k.CloseCode != bot.CloseDuplicate || k.DupOf != first.No {
			t.Fatalf("duplicate: %+v", k)
		}
	})
}

// The committee assigns a department: the officer of that department gets
// the case.
func TestStoryCommitteeAssigns(t *testing.T) {
	forWorlds(t, func(t *testing.T, w *world) {
		k := w.report("zhaolei", "xc01", "路边的行道树被人砍了好几棵")
		chief := w.first(w.roster.Chiefs("xicheng"))
		w.click(chief, w.lastCard(chief, "escalate"), "escalate")
		committee := w.first(w.roster.Committee())
		w.click(committee, w.lastCard(committee, "menu_assign"), "menu_assign")
		w.click(committee, w.lastCard(committee, "assign:enforcement"), "assign:enforcement")
		k = w.wantStatus(k.No, bot.StGuidance)
		officer := w.first(w.roster.Guidance("xicheng", "执法"))
		if k.Dept != "执法" || k.Assignee != officer {
			t.Fatalf("assigned: %+v", k)
		}
		w.lastCard(officer, "accept")
	})
}
