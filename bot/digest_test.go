package bot

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"gridbot/bot/roster"
	"gridbot/templates"
)

// bigDigest is 东城's digest with n overdue, n due and n verifying cases.
func bigDigest(t *testing.T, n int) (DigestInput, templates.DigestData) {
	t.Helper()
	zone := Shanghai()
	now := time.Date(2026, 11, 2, 8, 30, 0, 0, zone)
	var att Attention
	for i := range n {
		k := CaseBrief{No: fmt.Sprintf("DJ-20261101-%03d", i+1), District: "dongcheng", Grid: "dc01", Category: "垃圾站（箱）满溢",
			Status: StGuidance, Assignee: "jiangtao", DueAt: now.Add(time.Duration(i) * time.Minute), Overdue: true, Escalations: 1}
		att.Overdue = append(att.Overdue, k)
		k.Overdue, k.Status, k.Assignee = false, StStation, "zhangwei"
		att.DueToday = append(att.DueToday, k)
		k.Status = StVerifying
		att.Verifying = append(att.Verifying, k)
	}
	in := DigestInput{Roster: roster.Demo(), T: templates.MustLoad(), District: "dongcheng", Now: now, Zone: zone,
		Counts:    []DayCounts{{District: "dongcheng", New: 7, Closed: 3, Open: 3*n + 5, DueToday: n + 2, Overdue: n + 1, Verifying: n}},
		Attention: att,
		Patrols: []Patrol{{Grid: "dc01", Day: "2026-11-01", Counts: true}, {Grid: "dc02", Day: "2026-11-01", Counts: false},
			{Grid: "dc03", Day: "2026-10-31", Counts: true}},
		Visits: []Visit{{UserID: "jiangtao", Community: "dongsheng", At: now.Add(-time.Hour)}},
	}
	return in, BuildDigest(in)
}

func TestBuildDigest(t *testing.T) {
	_, d := bigDigest(t, 3)
	if d.Name != "东城管区" || d.Month != 11 || d.Day != 2 || d.Weekday != 1 || d.Committee {
		t.Errorf("head %+v", d)
	}
	if d.New != 7 || d.Overdue != 4 || len(d.OverdueCases) != 3 || d.OverdueMore != 1 || d.DueMore != 2 || d.VerifyMore != 0 {
		t.Errorf("counts: overdue %d (%d listed, %d more), due more %d, verify more %d",
			d.Overdue, len(d.OverdueCases), d.OverdueMore, d.DueMore, d.VerifyMore)
	}
	c := d.OverdueCases[0]
	if c.Holder != "蒋涛" || c.Grid != "东盛社区第一网格" || c.Due != "" || c.District != "" {
		t.Errorf("overdue line %+v", c)
	}
	if d.DueCases[1].Due != "11-02 08:31" || d.DueCases[0].Holder != "张伟" {
		t.Errorf("due line %+v", d.DueCases[1])
	}
	if d.VerifyCases[0].Holder != "网格员朱强" {
		t.Errorf("verify line holder %q", d.VerifyCases[0].Holder)
	}
	// Yesterday (1 Nov) only dc01 counted: dc02's did not count, dc03's was the day before.
	if d.Grids != 4 || d.Patrolled != 1 || d.PatrolPct != "25%" || len(d.Missed) != 3 || d.Missed[0].Grid != "东盛社区第二网格" ||
		d.Missed[0].People[0] != "胡玉梅" {
		t.Errorf("patrols %d/%d %s, missed %+v", d.Patrolled, d.Grids, d.PatrolPct, d.Missed)
	}
	// 8 duties this week; 蒋涛 has been to 东盛.
	if d.Visits != 8 || d.VisitsDone != 1 || len(d.VisitsDue) != 4 || d.VisitsDue[0].Officer != "蒋涛" ||
		strings.Join(d.VisitsDue[0].Communities, ",") != "朝阳社区" {
		t.Errorf("visits %d/%d, due %+v", d.VisitsDone, d.Visits, d.VisitsDue)
	}
}

func TestDigestFitsTheChat(t *testing.T) {
	in, d := bigDigest(t, 200)
	for _, limit := range []int{MaxRobotMarkdown, MaxAppChatMarkdown} {
		s, err := RenderDigest(in.T, d, limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(s) > limit || !utf8.ValidString(s) {
			t.Fatalf("digest of %d bytes for a limit of %d (valid UTF-8: %v)", len(s), limit, utf8.ValidString(s))
		}
		// The cut lists say how many more there are, and the counts stay whole.
		if !strings.Contains(s, "…另有") || !strings.Contains(s, "逾期 201 件") || !strings.Contains(s, "**本周走访**") {
			t.Errorf("limit %d:\n%s", limit, s)
		}
		if len(s) < limit-300 {
			t.Errorf("limit %d: only %d bytes used", limit, len(s))
		}
	}
}

func TestDigestOfTheCommittee(t *testing.T) {
	in, _ := bigDigest(t, 2)
	in.District = ""
	in.Counts = append(in.Counts, DayCounts{District: "xicheng", New: 1, Overdue: 1})
	d := BuildDigest(in)
	if !d.Committee || d.Name != "董家街道" || len(d.Districts) != 5 || d.New != 8 || d.Overdue != 4 {
		t.Fatalf("committee digest %+v", d)
	}
	if d.OverdueCases[0].District != "东城管区" || len(d.Missed) != 0 || len(d.VisitsDue) != 0 {
		t.Errorf("committee lists: %+v, missed %v, visits %v", d.OverdueCases[0], d.Missed, d.VisitsDue)
	}
	if l := d.Districts[0]; l.Name != "东城管区" || l.Grids != 4 || l.Patrolled != 1 || l.Visits != 8 || l.VisitsDone != 1 {
		t.Errorf("东城's line %+v", l)
	}
	if d.Grids != 18 || d.Visits != 44 {
		t.Errorf("subdistrict: %d grids, %d visits due; want 18 and 44", d.Grids, d.Visits)
	}
}

func TestCutBytes(t *testing.T) {
	s := strings.Repeat("网格", 10) // 60 bytes
	got := cutBytes(s, 20)
	if len(got) > 20 || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
		t.Errorf("cutBytes = %q (%d bytes)", got, len(got))
	}
	if cutBytes("abc", 20) != "abc" {
		t.Error("a short text was cut")
	}
	// No list left to cut: the text itself is cut.
	long, err := fitMarkdown(func() (string, error) { return s, nil }, 10, nil)
	if err != nil || len(long) > 10 {
		t.Errorf("fitMarkdown = %q, %v", long, err)
	}
}

func TestClockTime(t *testing.T) {
	zone := Shanghai()
	for _, c := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2026, 11, 3, 0, 0, 0, 0, zone), "11-02 24:00"},
		{time.Date(2026, 11, 2, 18, 5, 0, 0, zone), "11-02 18:05"},
		{time.Date(2026, 11, 2, 10, 5, 0, 0, time.UTC), "11-02 18:05"},
		{time.Time{}, ""},
	} {
		if got := ClockTime(c.t, zone); got != c.want {
			t.Errorf("ClockTime(%v) = %q, want %q", c.t, got, c.want)
		}
	}
}

func TestHolderWords(t *testing.T) {
	set, r := templates.MustLoad(), roster.Demo()
	for _, c := range []struct {
		k    CaseBrief
		want string
	}{
		{CaseBrief{Status: StReported, District: "dongcheng"}, "东城管区城管工作站"},
		{CaseBrief{Status: StStation, Assignee: "zhangwei"}, "张伟"},
		{CaseBrief{Status: StCommittee}, "城管委办公室"},
		{CaseBrief{Status: StExternal}, "区/市城管部门"},
		{CaseBrief{Status: StPartner, Partner: "police"}, "历城区公安分局董家派出所"},
		{CaseBrief{Status: StVerifying, Grid: "dc02"}, "网格员胡玉梅"},
		{CaseBrief{Status: StGuidance, Assignee: "nobody"}, "nobody"},
	} {
		if got := HolderWords(set, r, c.k); got != c.want {
			t.Errorf("HolderWords(%+v) = %q, want %q", c.k, got, c.want)
		}
	}
}
