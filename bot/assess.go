package bot

import (
	"math"
	"slices"
	"time"
)

// AssessWeights weigh the indicators of the monthly assessment. Only their
// ratios matter: a score is the weighted mean of the indicators that could
// be computed.
type AssessWeights struct {
	Closure    float64 // 结案率
	OnTime     float64 // 按期结案率
	Rework     float64 // 返工率, scored as 1 − rate
	Patrol     float64 // 巡查覆盖率
	Visits     float64 // 走访完成率
	Activities float64 // 活动开展率
}

// AssessPolicy is how the monthly assessment scores.
type AssessPolicy struct {
	Weights AssessWeights
	// MinCases is the minimum sample: a district with fewer cases due
	// (应结案数) has its case indicators counted at the subdistrict's average,
	// is marked small-sample (样本不足) and cannot rank first.
	MinCases int
}

// DefaultAssessPolicy weighs closing on time most, then closing and patrol
// coverage, then rework, visits and activities; the minimum sample is 5.
func DefaultAssessPolicy() AssessPolicy {
	return AssessPolicy{
		Weights:  AssessWeights{Closure: 20, OnTime: 30, Rework: 10, Patrol: 20, Visits: 10, Activities: 10},
		MinCases: 5,
	}
}

// Indicator is one assessed figure: Num/Den, its score out of 100 (for
// rework, 100 × (1 − rate)) and whether it could be computed.
type Indicator struct {
	Num, Den int
	Rate     float64 // Num/Den, or the subdistrict's rate for a small sample
	Score    float64 // 0 to 100
	Valid    bool    // Den > 0 (or replaced by the average)
	Average  bool    // the subdistrict's average stands in (small sample)
}

// AssessRow is one district's assessment.
type AssessRow struct {
	District string
	Name     string
	Figures  PeriodFigures
	Closure  Indicator // 结案率 = 结案数 / 应结案数
	OnTime   Indicator // 按期结案率 = 按期结案数 / (应结案数 − 挂账数)
	Rework   Indicator // 返工率 = 返工数 / 处置数
	Patrol   Indicator // 巡查覆盖率 = grid-days patrolled / grid-days
	Visits   Indicator // 走访完成率 = officer-community-weeks visited / due
	Acts     Indicator // 活动开展率 = officers with an activity / officers
	Small    bool      // 样本不足: fewer than MinCases cases due
	Score    float64   // 0 to 100, one decimal
	Grade    string    // A to E
	Rank     int       // 1 is best; 0 for the total row
}

// Assessment is the monthly assessment (考核) of every district.
type Assessment struct {
	Period Period
	AsOf   time.Time
	Policy AssessPolicy
	Rows   []AssessRow // ranked, best first
	Total  AssessRow   // the whole subdistrict, pooled (not ranked)
}

// Partial reports whether the month had not ended at AsOf.
func (a Assessment) Partial() bool { return a.AsOf.Before(a.Period.To) }

// Grade is the standard grade of a score: A ≥ 90, B ≥ 75, C ≥ 60, D ≥ 40,
// E below.
func Grade(score float64) string {
	switch {
	case score >= 90:
		return "A"
	case score >= 75:
		return "B"
	case score >= 60:
		return "C"
	case score >= 40:
		return "D"
	}
	return "E"
}

// indicator makes an indicator of num/den; inverse scores 1 − rate.
func indicator(num, den int, inverse bool) Indicator {
	in := Indicator{Num: num, Den: den}
	if den > 0 {
		in.Valid = true
		in.Rate = float64(num) / float64(den)
		in.Score = scoreOf(in.Rate, inverse)
	}
	return in
}

func scoreOf(rate float64, inverse bool) float64 {
	rate = math.Min(math.Max(rate, 0), 1)
	if inverse {
		return 100 * (1 - rate)
	}
	return 100 * rate
}

// ratioIndicator makes an indicator of a plan duty.
func ratioIndicator(r Ratio) Indicator { return indicator(r.Done, r.Total, false) }

// caseIndicators fills the case indicators of row from its figures.
func caseIndicators(row *AssessRow) {
	f := row.Figures
	row.Closure = indicator(f.Closed, f.Due(), false)
	row.OnTime = indicator(f.OnTime, f.Due()-f.Unsolvable, false)
	row.Rework = indicator(f.Reworked, f.Handled, true)
}

// Assess scores the districts of a monthly pack. It does no I/O.
//
// Each indicator scores 0–100; the score is the mean of the valid ones
// weighted by p.Weights. A district with fewer than p.MinCases cases due
// has its three case indicators replaced by the subdistrict's pooled rate
// over the districts with a full sample (over every district when none
// has), is marked Small and cannot rank first: when the best score is a
// small sample, the best full-sample district is ranked first. Equal scores
// share a rank.
func Assess(pack Pack, p AssessPolicy) Assessment {
	a := Assessment{Period: pack.Period, AsOf: pack.AsOf, Policy: p}
	var full, all PeriodFigures
	for _, d := range pack.Districts {
		row := AssessRow{District: d.District, Name: d.Name, Figures: d.PeriodFigures}
		caseIndicators(&row)
		row.Patrol, row.Visits, row.Acts = ratioIndicator(d.Patrol), ratioIndicator(d.Visits), ratioIndicator(d.Activities)
		row.Small = d.Due() < p.MinCases
		if !row.Small {
			full.add(d.PeriodFigures)
		}
		all.add(d.PeriodFigures)
		a.Rows = append(a.Rows, row)
	}
	avg := AssessRow{Figures: full}
	if full.Due() == 0 {
		avg.Figures = all
	}
	caseIndicators(&avg)
	for i := range a.Rows {
		row := &a.Rows[i]
		if row.Small {
			row.Closure = standIn(row.Closure, avg.Closure, false)
			row.OnTime = standIn(row.OnTime, avg.OnTime, false)
			row.Rework = standIn(row.Rework, avg.Rework, true)
		}
		row.Score = score(*row, p.Weights)
		row.Grade = Grade(row.Score)
	}
	rank(a.Rows)

	t := pack.Total
	a.Total = AssessRow{Name: t.Name, Figures: t.PeriodFigures}
	caseIndicators(&a.Total)
	a.Total.Patrol, a.Total.Visits, a.Total.Acts = ratioIndicator(t.Patrol), ratioIndicator(t.Visits), ratioIndicator(t.Activities)
	a.Total.Score = score(a.Total, p.Weights)
	a.Total.Grade = Grade(a.Total.Score)
	return a
}

// standIn keeps own's counts but scores the average's rate.
func standIn(own, avg Indicator, inverse bool) Indicator {
	own.Average = true
	own.Valid = avg.Valid
	own.Rate = avg.Rate
	own.Score = 0
	if avg.Valid {
		own.Score = scoreOf(avg.Rate, inverse)
	}
	return own
}

// score is the weighted mean of the valid indicators, to one decimal.
func score(row AssessRow, w AssessWeights) float64 {
	sum, weight := 0.0, 0.0
	for _, x := range []struct {
		in Indicator
		w  float64
	}{
		{row.Closure, w.Closure}, {row.OnTime, w.OnTime}, {row.Rework, w.Rework},
		{row.Patrol, w.Patrol}, {row.Visits, w.Visits}, {row.Acts, w.Activities},
	} {
		if x.in.Valid && x.w > 0 {
			sum += x.w * x.in.Score
			weight += x.w
		}
	}
	if weight == 0 {
		return 0
	}
	return math.Round(sum/weight*10) / 10
}

// rank orders rows best first and numbers them: equal scores share a rank
// (1, 2, 2, 4); a small-sample district never ranks first while a
// full-sample one exists.
func rank(rows []AssessRow) {
	slices.SortStableFunc(rows, func(a, b AssessRow) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return 0
	})
	if len(rows) > 0 && rows[0].Small {
		if i := slices.IndexFunc(rows, func(r AssessRow) bool { return !r.Small }); i > 0 {
			best := rows[i]
			copy(rows[1:i+1], rows[:i])
			rows[0] = best
		}
	}
	for i := range rows {
		switch {
		case i == 0:
			rows[i].Rank = 1
		case rows[i].Score == rows[i-1].Score && !(i == 1 && rows[0].Small != rows[1].Small):
			rows[i].Rank = rows[i-1].Rank
		default:
			rows[i].Rank = i + 1
		}
	}
}
