package bot

import (
	"math"
	"strings"
	"testing"
	"time"

	"gridbot/bot/roster"
)

func TestGrade(t *testing.T) {
	for _, c := range []struct {
		score float64
		want  string
	}{{100, "A"}, {90, "A"}, {89.9, "B"}, {75, "B"}, {74.9, "C"}, {60, "C"}, {59.9, "D"}, {40, "D"}, {39.9, "E"}, {0, "E"}} {
		if got := Grade(c.score); got != c.want {
			t.Errorf("Grade(%v) = %s, want %s", c.score, got, c.want)
		}
	}
}

// packOf is a monthly pack of three districts with the given figures and
// plan duties.
func packOf(ds ...PackDistrict) Pack {
	p, _ := ParseMonth("2026-11", Shanghai())
	pack := Pack{Period: p, AsOf: p.To, Districts: ds, Total: PackDistrict{Name: "total"}}
	for _, d := range ds {
		pack.Total.PeriodFigures.add(d.PeriodFigures)
	}
	return pack
}

func TestAssessScoresByHand(t *testing.T) {
	pol := DefaultAssessPolicy()
	a := Assess(packOf(
		// 结案率 9/10, 按期 8/(10−1), 返工 1/8; patrols 50/60, visits 6/8, activities 3/4:
		// (20×90 + 30×88.889 + 10×87.5 + 20×83.333 + 10×75 + 10×75) / 100 = 85.08.
		PackDistrict{District: "a", Name: "A", PeriodFigures: PeriodFigures{Closed: 9, OpenDue: 1, Unsolvable: 1, OnTime: 8, Handled: 8, Reworked: 1},
			Patrol: Ratio{50, 60}, Visits: Ratio{6, 8}, Activities: Ratio{3, 4}},
		// Everything perfect but no visits were due (not weighed): 100.
		PackDistrict{District: "b", Name: "B", PeriodFigures: PeriodFigures{Closed: 10, OnTime: 10, Handled: 10},
			Patrol: Ratio{60, 60}, Activities: Ratio{4, 4}},
	), pol)
	if a.Rows[0].District != "b" || a.Rows[0].Score != 100 || a.Rows[0].Rank != 1 || a.Rows[0].Visits.Valid {
		t.Errorf("first %+v, want b with 100 and no visits indicator", a.Rows[0])
	}
	r := a.Rows[1]
	if r.District != "a" || r.Score != 85.1 || r.Grade != "B" || r.Rank != 2 || r.Small {
		t.Errorf("second: %s %v %s rank %d small %v; want a 85.1 B rank 2", r.District, r.Score, r.Grade, r.Rank, r.Small)
	}
	if math.Abs(r.OnTime.Rate-8.0/9) > 1e-12 || math.Abs(r.Rework.Score-87.5) > 1e-12 {
		t.Errorf("按期 %v, 返工 score %v", r.OnTime.Rate, r.Rework.Score)
	}
}

func TestAssessSmallSampleNeverFirst(t *testing.T) {
	pol := DefaultAssessPolicy()
	a := Assess(packOf(
		// Full sample, middling: 结案 8/10, 按期 6/10, no rework, patrols 30/60.
		PackDistrict{District: "full", Name: "F", PeriodFigures: PeriodFigures{Closed: 8, OpenDue: 2, OnTime: 6, Handled: 8},
			Patrol: Ratio{30, 60}},
		// Small sample (2 < 5) with perfect figures: its case indicators count at
		// the full sample's rates (0.8, 0.6, 0 rework) and it may not rank first,
		// although its patrols (60/60) put its score above.
		PackDistrict{District: "small", Name: "S", PeriodFigures: PeriodFigures{Closed: 2, OnTime: 2, Handled: 2},
			Patrol: Ratio{60, 60}},
		// Nothing due at all: also small.
		PackDistrict{District: "empty", Name: "E", Patrol: Ratio{0, 60}},
	), pol)
	byID := map[string]AssessRow{}
	for _, r := range a.Rows {
		byID[r.District] = r
	}
	full, small, empty := byID["full"], byID["small"], byID["empty"]
	// full: (20×80 + 30×60 + 10×100 + 20×50) / 80 = 67.5
	// small: (20×80 + 30×60 + 10×100 + 20×100) / 80 = 80
	// empty: (1600 + 1800 + 1000 + 0) / 80 = 55
	if full.Score != 67.5 || small.Score != 80 || empty.Score != 55 {
		t.Fatalf("scores full %v small %v empty %v; want 67.5, 80, 55", full.Score, small.Score, empty.Score)
	}
	if !small.Small || !small.Closure.Average || small.Closure.Rate != 0.8 || small.Closure.Num != 2 {
		t.Errorf("small's closure %+v: want its own counts scored at the average 0.8", small.Closure)
	}
	if a.Rows[0].District != "full" || full.Rank != 1 || small.Rank != 2 || empty.Rank != 3 {
		t.Errorf("ranks: full %d, small %d, empty %d; want 1, 2, 3 (a small sample never first)", full.Rank, small.Rank, empty.Rank)
	}
}

func TestAssessTiesShareRank(t *testing.T) {
	d := func(id string) PackDistrict {
		return PackDistrict{District: id, PeriodFigures: PeriodFigures{Closed: 10, OnTime: 9, Handled: 10}, Patrol: Ratio{9, 10}}
	}
	a := Assess(packOf(d("x"), d("y"), PackDistrict{District: "z", PeriodFigures: PeriodFigures{Closed: 10, Handled: 10}}), DefaultAssessPolicy())
	if a.Rows[0].Rank != 1 || a.Rows[1].Rank != 1 || a.Rows[2].Rank != 3 {
		t.Errorf("ranks %d %d %d, want 1 1 3", a.Rows[0].Rank, a.Rows[1].Rank, a.Rows[2].Rank)
	}
	if a.Rows[0].District != "x" {
		t.Errorf("ties keep roster order: first is %s", a.Rows[0].District)
	}
}

func TestAssessWeightsFromConfig(t *testing.T) {
	// Only 按期结案率 weighed: the score is that rate.
	pol := AssessPolicy{Weights: AssessWeights{OnTime: 1}, MinCases: 1}
	a := Assess(packOf(PackDistrict{District: "a", PeriodFigures: PeriodFigures{Closed: 4, OnTime: 3}, Patrol: Ratio{0, 10}}), pol)
	if a.Rows[0].Score != 75 {
		t.Errorf("score %v, want 75", a.Rows[0].Score)
	}
}

func TestVisitDutiesOfTheDemo(t *testing.T) {
	r := roster.Demo()
	got := map[string]int{}
	for _, d := range r.Districts {
		got[d.ID] = len(VisitDuties(r, d.ID))
	}
	// 东城: 蒋涛, 程浩, 苏梅 (from 北苑) and 范晓东, two communities each.
	want := map[string]int{"dongcheng": 8, "xicheng": 8, "nanyuan": 12, "beiyuan": 8, "zhongxin": 8}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s has %d visit duties, want %d", k, got[k], v)
		}
	}
}

func TestPlanDuties(t *testing.T) {
	r := roster.Demo()
	zone := Shanghai()
	nov, _ := ParseMonth("2026-11", zone)
	day := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, zone) }
	days := nov.Days(day(4, 8)) // 1–3 Nov have ended
	patrols := []Patrol{
		{Grid: "by01", Day: "2026-11-01", Counts: true}, {Grid: "by01", Day: "2026-11-01", Counts: true},
		{Grid: "by02", Day: "2026-11-02", Counts: false}, {Grid: "by03", Day: "2026-11-03", Counts: true},
		{Grid: "by03", Day: "2026-11-04", Counts: true}, // today: not over
	}
	if got := PatrolCoverage(r, "beiyuan", patrols, days); got != (Ratio{2, 9}) {
		t.Errorf("北苑 coverage %+v, want 2/9", got)
	}
	weeks := nov.Weeks(day(30, 12))
	visits := []Visit{
		{UserID: "yuanfang", Community: "longquan", At: day(2, 9)}, {UserID: "yuanfang", Community: "longquan", At: day(3, 9)},
		{UserID: "yuanfang", Community: "hehua", At: day(10, 9)}, {UserID: "yuanfang", Community: "hehua", At: day(30, 9)},
	}
	if got := VisitCompletion(r, "beiyuan", visits, weeks); got != (Ratio{2, 32}) {
		t.Errorf("北苑 visits %+v, want 2/32", got)
	}
	acts := []Activity{{UserID: "yuanfang", District: "beiyuan", Month: "2026-11"}, {UserID: "sumei", District: "dongcheng", Month: "2026-11"},
		{UserID: "yeqian", District: "beiyuan", At: day(5, 9)}, {UserID: "jiangbo", District: "beiyuan", Month: "2026-10"}}
	if got := ActivityCompletion(r, "beiyuan", nov, acts); got != (Ratio{2, 4}) {
		t.Errorf("北苑 activities %+v, want 2/4", got)
	}
}

// The roster index agrees with the roster's own lookups.
func TestRosterIndex(t *testing.T) {
	r := roster.Demo()
	x := indexRoster(r)
	for _, d := range r.Districts {
		if got, want := x.duties[d.ID], VisitDuties(r, d.ID); len(got) != len(want) {
			t.Errorf("%s: %d duties, want %d", d.ID, len(got), len(want))
		} else {
			for i := range got {
				if got[i].Officer.UserID != want[i].Officer.UserID || got[i].Community.ID != want[i].Community.ID {
					t.Errorf("%s duty %d: %s/%s, want %s/%s", d.ID, i, got[i].Officer.UserID, got[i].Community.ID, want[i].Officer.UserID, want[i].Community.ID)
				}
			}
		}
		var got, want []string
		for _, p := range x.officers[d.ID] {
			got = append(got, p.UserID)
		}
		for _, p := range r.Guidance(d.ID, "") {
			want = append(want, p.UserID)
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s officers %v, want %v", d.ID, got, want)
		}
		if len(x.grids[d.ID]) != len(r.GridsOf(d.ID)) {
			t.Errorf("%s grids", d.ID)
		}
	}
}
