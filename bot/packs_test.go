package bot

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"gridbot/bot/roster"
	"gridbot/templates"
)

func TestPeriods(t *testing.T) {
	zone := Shanghai()
	w, err := ParseWeek("2026-W45", zone)
	if err != nil {
		t.Fatal(err)
	}
	if w.From != time.Date(2026, 11, 2, 0, 0, 0, 0, zone) || w.To != time.Date(2026, 11, 9, 0, 0, 0, 0, zone) || w.Label != "2026-W45" {
		t.Errorf("2026-W45 = %+v", w)
	}
	if d, _ := ParseWeek("2026-11-08", zone); d != w {
		t.Errorf("the week of 8 Nov (a Sunday) = %+v, want %+v", d, w)
	}
	if w1, _ := ParseWeek("2027-W01", zone); w1.From != time.Date(2027, 1, 4, 0, 0, 0, 0, zone) {
		t.Errorf("2027-W01 starts %v, want 4 Jan 2027", w1.From)
	}
	if w53, _ := ParseWeek("2026-W53", zone); w53.From != time.Date(2026, 12, 28, 0, 0, 0, 0, zone) {
		t.Errorf("2026-W53 starts %v, want 28 Dec 2026", w53.From)
	}
	for _, bad := range []string{"2025-W53", "2026-W0", "2026W4", "W45", "2026-13"} {
		if _, err := ParseWeek(bad, zone); ErrorCode(err) != EINVALID {
			t.Errorf("ParseWeek(%q) = %v, want EINVALID", bad, err)
		}
	}
	m, err := ParseMonth("2026-11", zone)
	if err != nil || m.Label != "2026-11" || m.To != time.Date(2026, 12, 1, 0, 0, 0, 0, zone) {
		t.Errorf("2026-11 = %+v, %v", m, err)
	}
	if _, err := ParseMonth("2026-11-01", zone); ErrorCode(err) != EINVALID {
		t.Errorf("ParseMonth of a date: %v", err)
	}

	// The weeks of a month are those whose Thursday is in it.
	labels := func(ps []Period) string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Label)
		}
		return strings.Join(out, " ")
	}
	if got := labels(m.Weeks(m.To.Add(7 * 24 * time.Hour))); got != "2026-W45 2026-W46 2026-W47 2026-W48" {
		t.Errorf("November's weeks: %s", got)
	}
	oct, _ := ParseMonth("2026-10", zone)
	if got := labels(oct.Weeks(oct.To.Add(7 * 24 * time.Hour))); got != "2026-W40 2026-W41 2026-W42 2026-W43 2026-W44" {
		t.Errorf("October's weeks (from 28 Sep to 1 Nov): %s", got)
	}
	// Only ended weeks and days count.
	mid := time.Date(2026, 11, 16, 8, 30, 0, 0, zone)
	if got := labels(m.Weeks(mid)); got != "2026-W45 2026-W46" {
		t.Errorf("November's weeks ended on 16 Nov: %s", got)
	}
	if days := m.Days(mid); len(days) != 15 || days[14].Label != "2026-11-15" {
		t.Errorf("November's days ended on 16 Nov: %d", len(days))
	}
	if got := labels(w.Weeks(w.To)); got != "2026-W45" {
		t.Errorf("a week's weeks: %s", got)
	}
}

func TestRatioPct(t *testing.T) {
	for _, c := range []struct {
		r    Ratio
		want string
	}{{Ratio{3, 4}, "75%"}, {Ratio{2, 3}, "66.7%"}, {Ratio{0, 0}, "—"}, {Ratio{7, 8}, "87.5%"}, {Ratio{1, 1}, "100%"}} {
		if got := c.r.Pct(); got != c.want {
			t.Errorf("%+v.Pct() = %s, want %s", c.r, got, c.want)
		}
	}
}

func TestBuildPack(t *testing.T) {
	zone := Shanghai()
	r := roster.Demo()
	week, _ := ParseWeek("2026-W45", zone)
	pack := BuildPack(PackInput{
		Roster: r, Period: week, AsOf: week.To,
		Figures: []PeriodFigures{{District: "dongcheng", Filed: 5, Closed: 4, OnTime: 3}, {District: "xicheng", Filed: 1}},
		Filed: []FiledCount{{District: "dongcheng", Source: SrcPatrol, Plan: "环境卫生", N: 3}, {District: "dongcheng", Source: SrcHotline, Plan: "市容管理", N: 2},
			{District: "xicheng", Source: SrcPatrol, Plan: "市容管理", N: 1}},
		Hotspots: []Hotspot{{District: "dongcheng", Grid: "dc01", Code: "06042", Category: "垃圾站（箱）满溢", N: 4}},
		Open:     []DayCounts{{District: "dongcheng", Overdue: 2}},
		Patrols:  []Patrol{{Grid: "dc01", Day: "2026-11-02", Counts: true}, {Grid: "dc01", Day: "2026-11-03", Counts: true}},
		Visits:   []Visit{{UserID: "jiangtao", Community: "dongsheng", At: week.From.Add(30 * time.Hour)}},
	})
	dc := pack.Districts[0]
	if dc.Name != "东城管区" || dc.Filed != 5 || dc.OpenOverdue != 2 || dc.Patrol != (Ratio{2, 28}) || dc.Visits != (Ratio{1, 8}) ||
		dc.Activities != (Ratio{}) || len(dc.Hotspots) != 1 {
		t.Errorf("东城 %+v", dc)
	}
	if fmt.Sprint(dc.BySource) != "[{patrol 3} {hotline 2}]" || fmt.Sprint(pack.Total.ByPlan) != "[{市容管理 3} {环境卫生 3}]" {
		t.Errorf("by source %v, by plan (total) %v", dc.BySource, pack.Total.ByPlan)
	}
	if pack.Total.Filed != 6 || pack.Total.Patrol != (Ratio{2, 126}) || pack.Total.Visits != (Ratio{1, 44}) {
		t.Errorf("total %+v", pack.Total)
	}
	set := templates.MustLoad()
	for _, district := range []string{"dongcheng", ""} {
		s, err := RenderPack(set, r, pack, nil, district, MaxAppChatMarkdown)
		if err != nil || len(s) > MaxAppChatMarkdown || !strings.Contains(s, "周例会") {
			t.Errorf("pack for %q (%d bytes, %v):\n%s", district, len(s), err, s)
		}
	}
	// A monthly pack of many hotspots still fits, and says how many it left out.
	month, _ := ParseMonth("2026-11", zone)
	pack.Period = month
	for i := range 300 {
		pack.Total.Hotspots = append(pack.Total.Hotspots, Hotspot{District: "dongcheng", Grid: "dc02", Category: fmt.Sprintf("类别%d", i), N: 3})
	}
	a := Assess(pack, DefaultAssessPolicy())
	s, err := RenderPack(set, r, pack, &a, "", MaxAppChatMarkdown)
	if err != nil || len(s) > MaxAppChatMarkdown || !strings.Contains(s, "…另有") || !strings.Contains(s, "**考核**") {
		t.Errorf("committee's monthly pack (%d bytes, %v):\n%s", len(s), err, s)
	}
}
