package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// An inspector patrols the grid from WeCom: start with a location, send
// points on the way, end in the grid: the patrol counts. Ending far away
// does not.
func TestStoryPatrol(t *testing.T) {
	forWorlds(t, func(t *testing.T, w *world) {
		lat, lng := w.gridPoint("dc01")
		w.text("zhuqiang", "开始巡查")
		if !strings.Contains(w.lastText("zhuqiang"), "请发送当前位置") {
			t.Fatalf("no location asked: %q", w.lastText("zhuqiang"))
		}
		w.location("zhuqiang", lat, lng, "东盛路北口")
		if !strings.Contains(w.lastText("zhuqiang"), "已开始巡查东盛社区第一网格") {
			t.Fatalf("start: %q", w.lastText("zhuqiang"))
		}
		w.clk.Set(w.clk.Now().Add(20 * time.Minute))
		w.location("zhuqiang", lat+0.001, lng, "")
		if !strings.Contains(w.lastText("zhuqiang"), "第1个点") {
			t.Fatalf("track point: %q", w.lastText("zhuqiang"))
		}
		w.post(w.locEvent("zhuqiang", lat+0.002, lng)) // a periodic report: silent
		w.clk.Set(w.clk.Now().Add(40 * time.Minute))
		w.location("zhuqiang", lat, lng+0.001, "")
		w.text("zhuqiang", "结束巡查") // the location is fresh: no need to ask
		if got := w.lastText("zhuqiang"); !strings.Contains(got, "用时60分钟") || !strings.Contains(got, "已计入") {
			t.Fatalf("end: %q", got)
		}
		w.text("zhuqiang", "结束巡查")
		if !strings.Contains(w.lastText("zhuqiang"), "没有进行中的巡查") {
			t.Fatalf("second end: %q", w.lastText("zhuqiang"))
		}
		// A patrol that ends in another district does not count.
		w.clk.Set(w.clk.Now().Add(time.Hour))
		w.text("zhuqiang", "开始巡查")
		w.location("zhuqiang", lat, lng, "")
		olat, olng := w.gridPoint("ny04")
		w.clk.Set(w.clk.Now().Add(30 * time.Minute))
		w.text("zhuqiang", "结束巡查")
		w.location("zhuqiang", olat, olng, "")
		if !strings.Contains(w.lastText("zhuqiang"), "未计入") {
			t.Fatalf("far end: %q", w.lastText("zhuqiang"))
		}
		ps, err := w.app.db.Rhythm().Patrols(context.Background(), morning.Add(-time.Hour), w.clk.Now().Add(time.Hour))
		if err != nil || len(ps) != 2 {
			t.Fatalf("patrols %+v (%v)", ps, err)
		}
		if !ps[0].Counts || ps[0].Points != 3 || ps[0].Day != "2026-12-01" || ps[0].Grid != "dc01" || ps[1].Counts {
			t.Fatalf("patrols %+v", ps)
		}
		// Only inspectors patrol.
		w.text("jiangtao", "开始巡查")
		if !strings.Contains(w.lastText("jiangtao"), "仅限网格员") {
			t.Fatalf("officer: %q", w.lastText("jiangtao"))
		}
	})
}

// A guidance officer signs in at a community and records the month's
// activity with photos.
func TestStoryVisitAndActivity(t *testing.T) {
	forWorlds(t, func(t *testing.T, w *world) {
		lat, lng := w.gridPoint("dc03")
		w.text("jiangtao", "签到 走访朝阳社区物业，了解垃圾清运")
		w.location("jiangtao", lat, lng, "朝阳社区居委会")
		if got := w.lastText("jiangtao"); !strings.Contains(got, "已在朝阳社区签到") || !strings.Contains(got, "本周第1次") {
			t.Fatalf("sign-in: %q", got)
		}
		w.text("jiangtao", "签到") // the location is still fresh
		if !strings.Contains(w.lastText("jiangtao"), "本周第2次") {
			t.Fatalf("second sign-in: %q", w.lastText("jiangtao"))
		}
		w.text("jiangtao", "活动登记 法律法规宣传 垃圾分类条例进社区 朝阳社区广场 35")
		if !strings.Contains(w.lastText("jiangtao"), "已登记12月法律法规宣传活动") {
			t.Fatalf("activity: %q", w.lastText("jiangtao"))
		}
		w.photo("jiangtao")
		w.photo("jiangtao")
		if !strings.Contains(w.lastText("jiangtao"), "共2张") {
			t.Fatalf("activity photos: %q", w.lastText("jiangtao"))
		}
		w.text("jiangtao", "活动登记 开会")
		if !strings.Contains(w.lastText("jiangtao"), "活动登记请这样写") {
			t.Fatalf("bad activity: %q", w.lastText("jiangtao"))
		}
		ctx := context.Background()
		vs, _ := w.app.db.Rhythm().Visits(ctx, morning.Add(-time.Hour), morning.Add(time.Hour))
		as, _ := w.app.db.Rhythm().Activities(ctx, morning.Add(-time.Hour), morning.Add(time.Hour))
		if len(vs) != 2 || vs[0].Community != "chaoyang" || vs[0].Dept != "环卫" || vs[0].Note == "" {
			t.Fatalf("visits %+v", vs)
		}
		if len(as) != 1 || as[0].Kind != "law" || as[0].Attendance != 35 || as[0].Month != "2026-12" || len(as[0].Photos) != 2 {
			t.Fatalf("activities %+v", as)
		}
		w.text("zhuqiang", "签到")
		if !strings.Contains(w.lastText("zhuqiang"), "仅限业务指导员") {
			t.Fatalf("inspector sign-in: %q", w.lastText("zhuqiang"))
		}
	})
}
