package bot

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gridbot/bot/roster"
)

// Period kinds.
const (
	PeriodDay   = "day"
	PeriodWeek  = "week"
	PeriodMonth = "month"
)

// Period is the span of local days a report covers: one day, one ISO week
// (Monday to Sunday) or one calendar month, from local midnight to local
// midnight.
type Period struct {
	Kind  string    // PeriodDay, PeriodWeek or PeriodMonth
	Label string    // 2026-11-02, 2026-W45 or 2026-11
	From  time.Time // local midnight of its first day
	To    time.Time // local midnight after its last day
}

// midnight is the local midnight starting t's day in zone.
func midnight(t time.Time, zone *time.Location) time.Time {
	l := t.In(zone)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, zone)
}

// DayPeriod is the local day holding t.
func DayPeriod(t time.Time, zone *time.Location) Period {
	from := midnight(t, zone)
	return Period{Kind: PeriodDay, Label: from.Format(time.DateOnly), From: from, To: from.AddDate(0, 0, 1)}
}

// WeekPeriod is the ISO week (Monday to Sunday) holding t.
func WeekPeriod(t time.Time, zone *time.Location) Period {
	d := midnight(t, zone)
	from := d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
	y, w := from.ISOWeek()
	return Period{Kind: PeriodWeek, Label: fmt.Sprintf("%04d-W%02d", y, w), From: from, To: from.AddDate(0, 0, 7)}
}

// MonthPeriod is the calendar month holding t.
func MonthPeriod(t time.Time, zone *time.Location) Period {
	l := t.In(zone)
	from := time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, zone)
	return Period{Kind: PeriodMonth, Label: from.Format("2006-01"), From: from, To: from.AddDate(0, 1, 0)}
}

// ParseMonth reads "2026-11".
func ParseMonth(s string, zone *time.Location) (Period, error) {
	t, err := time.ParseInLocation("2006-01", strings.TrimSpace(s), zone)
	if err != nil {
		return Period{}, Errorf(EINVALID, "a month is written like 2026-11, not %q", s)
	}
	return MonthPeriod(t, zone), nil
}

// ParseWeek reads an ISO week, "2026-W45", or any date of it, "2026-11-05".
func ParseWeek(s string, zone *time.Location) (Period, error) {
	s = strings.TrimSpace(s)
	if t, err := time.ParseInLocation(time.DateOnly, s, zone); err == nil {
		return WeekPeriod(t, zone), nil
	}
	ys, ws, ok := strings.Cut(strings.ToUpper(s), "-W")
	y, err1 := strconv.Atoi(ys)
	w, err2 := strconv.Atoi(ws)
	if !ok || err1 != nil || err2 != nil || y < 1970 || y > 9999 || w < 1 || w > 53 {
		return Period{}, Errorf(EINVALID, "a week is written like 2026-W45 (or any date of it), not %q", s)
	}
	// 4 January is always in week 1.
	jan4 := time.Date(y, time.January, 4, 0, 0, 0, 0, zone)
	p := WeekPeriod(jan4.AddDate(0, 0, 7*(w-1)), zone)
	if gy, gw := p.From.ISOWeek(); gy != y || gw != w {
		return Period{}, Errorf(EINVALID, "%d has no week %d", y, w)
	}
	return p, nil
}

// Days returns the local days of p that have ended by asOf, oldest first.
func (p Period) Days(asOf time.Time) []Period {
	var out []Period
	for d := p.From; d.Before(p.To); d = d.AddDate(0, 0, 1) {
		day := DayPeriod(d, d.Location())
		if day.To.After(asOf) {
			break
		}
		out = append(out, day)
	}
	return out
}

// Weeks returns the ISO weeks that belong to p and have ended by asOf. A
// week belongs to the month holding its Thursday (the ISO 8601 rule), so
// every week belongs to exactly one month; a week period is its own week.
func (p Period) Weeks(asOf time.Time) []Period {
	var out []Period
	zone := p.From.Location()
	for w := WeekPeriod(p.From, zone); w.From.Before(p.To); w = WeekPeriod(w.To, zone) {
		thu := w.From.AddDate(0, 0, 3)
		if p.Kind == PeriodMonth && (thu.Before(p.From) || !thu.Before(p.To)) {
			continue
		}
		if w.To.After(asOf) {
			break
		}
		out = append(out, w)
	}
	return out
}

// Ratio is what was done of what was due: grid-days patrolled, visits made,
// officers with an activity.
type Ratio struct {
	Done, Total int
}

// Rate is Done/Total; ok is false when nothing was due.
func (r Ratio) Rate() (rate float64, ok bool) {
	if r.Total <= 0 {
		return 0, false
	}
	return float64(r.Done) / float64(r.Total), true
}

// Pct formats the rate as "87.5%" (one decimal, none when whole), "—" when
// nothing was due.
func (r Ratio) Pct() string {
	v, ok := r.Rate()
	if !ok {
		return "—"
	}
	return pct(v)
}

// pct formats a rate in [0, 1] as a percentage with at most one decimal.
func pct(v float64) string {
	s := strconv.FormatFloat(v*100, 'f', 1, 64)
	return strings.TrimSuffix(s, ".0") + "%"
}

// VisitDuty is a guidance officer's duty to visit a community every week.
type VisitDuty struct {
	Officer   roster.Person
	Community roster.Community
}

// VisitDuties are the weekly visits the plan asks of the guidance officers
// serving district: each officer, each of their responsible communities in
// the district (the communities of their home district when they list
// none), in roster order.
func VisitDuties(r *roster.Roster, district string) []VisitDuty {
	var out []VisitDuty
	for _, p := range r.Guidance(district, "") {
		ids := p.Communities
		if len(ids) == 0 {
			for _, c := range r.CommunitiesOf(p.District) {
				ids = append(ids, c.ID)
			}
		}
		for _, id := range ids {
			if c, ok := r.Community(id); ok && c.District == district {
				out = append(out, VisitDuty{Officer: p, Community: c})
			}
		}
	}
	return out
}

// rosterIndex groups the roster by district once, for reports over many
// districts (the roster's own lookups scan its slices).
type rosterIndex struct {
	grids    map[string][]roster.Grid
	duties   map[string][]VisitDuty
	officers map[string][]roster.Person
}

// indexRoster groups grids, visit duties and guidance officers by district,
// in roster order: duties[d] is VisitDuties(r, d) and officers[d] is
// r.Guidance(d, "").
func indexRoster(r *roster.Roster) *rosterIndex {
	x := &rosterIndex{grids: map[string][]roster.Grid{}, duties: map[string][]VisitDuty{}, officers: map[string][]roster.Person{}}
	for _, g := range r.Grids {
		x.grids[g.District] = append(x.grids[g.District], g)
	}
	communities := map[string]roster.Community{}
	inDistrict := map[string][]string{}
	for _, c := range r.Communities {
		communities[c.ID] = c
		inDistrict[c.District] = append(inDistrict[c.District], c.ID)
	}
	for _, p := range r.People {
		if !p.HasRole(roster.RoleGuidance) {
			continue
		}
		served := map[string]bool{p.District: p.District != ""}
		for _, id := range p.Communities {
			if c, ok := communities[id]; ok {
				served[c.District] = true
			}
		}
		for _, d := range r.Districts {
			if served[d.ID] {
				x.officers[d.ID] = append(x.officers[d.ID], p)
			}
		}
		ids := p.Communities
		if len(ids) == 0 {
			ids = inDistrict[p.District]
		}
		// Duties follow the officer order of each district (roster order),
		// then the officer's community order, as VisitDuties does.
		for _, id := range ids {
			if c, ok := communities[id]; ok {
				x.duties[c.District] = append(x.duties[c.District], VisitDuty{Officer: p, Community: c})
			}
		}
	}
	return x
}

// patrolled returns the set of "grid|day" a counting patrol covered.
func patrolled(patrols []Patrol) map[string]bool {
	out := map[string]bool{}
	for _, p := range patrols {
		if p.Counts {
			out[p.Grid+"|"+p.Day] = true
		}
	}
	return out
}

// PatrolCoverage counts the district's grid-days of days patrolled by at
// least one counting patrol.
func PatrolCoverage(r *roster.Roster, district string, patrols []Patrol, days []Period) Ratio {
	return patrolCoverage(r.GridsOf(district), patrolled(patrols), days)
}

func patrolCoverage(grids []roster.Grid, done map[string]bool, days []Period) Ratio {
	var out Ratio
	for _, d := range days {
		for _, g := range grids {
			out.Total++
			if done[g.ID+"|"+d.Label] {
				out.Done++
			}
		}
	}
	return out
}

// visitedKey is an officer's visit to a community in a week.
func visitedKey(user, community string, week time.Time) string {
	return user + "|" + community + "|" + week.Format(time.DateOnly)
}

// visited returns the set of visitedKey the visits make, for the weeks.
func visited(visits []Visit, weeks []Period) map[string]bool {
	out := map[string]bool{}
	for _, v := range visits {
		for _, w := range weeks {
			if !v.At.Before(w.From) && v.At.Before(w.To) {
				out[visitedKey(v.UserID, v.Community, w.From)] = true
			}
		}
	}
	return out
}

// VisitCompletion counts the officer-community-weeks of the weeks in which
// the officer signed in at the community at least once.
func VisitCompletion(r *roster.Roster, district string, visits []Visit, weeks []Period) Ratio {
	return visitCompletion(VisitDuties(r, district), visited(visits, weeks), weeks)
}

func visitCompletion(duties []VisitDuty, done map[string]bool, weeks []Period) Ratio {
	var out Ratio
	for _, w := range weeks {
		for _, d := range duties {
			out.Total++
			if done[visitedKey(d.Officer.UserID, d.Community.ID, w.From)] {
				out.Done++
			}
		}
	}
	return out
}

// ActivityCompletion counts the officers serving the district who recorded
// at least one activity in it in month (YYYY-MM; an activity with no month
// counts by its time).
func ActivityCompletion(r *roster.Roster, district string, month Period, acts []Activity) Ratio {
	return activityCompletion(r.Guidance(district, ""), district, month, acts)
}

func activityCompletion(officers []roster.Person, district string, month Period, acts []Activity) Ratio {
	var out Ratio
	for _, p := range officers {
		out.Total++
		for _, a := range acts {
			inMonth := a.Month == month.Label || (a.Month == "" && !a.At.Before(month.From) && a.At.Before(month.To))
			if a.UserID == p.UserID && a.District == district && inMonth {
				out.Done++
				break
			}
		}
	}
	return out
}

// PeriodFigures are a district's case figures of a period, as of AsOf (the
// period's end, or now while it runs). the README defines each.
type PeriodFigures struct {
	District      string
	Filed         int // 立案数: filed within the period
	OnSpot        int // of those, handled on the spot
	Closed        int // 结案数: closed within the period, every close code
	Unsolvable    int // 挂账数: of those, closed as unsolvable
	OnTime        int // 按期结案数: closed within the period, not unsolvable, never overdue, by the deadline
	OpenDue       int // 应结未结: open at AsOf and past their deadline at AsOf
	Handled       int // 处置数: handled and reply events within the period
	Reworked      int // 返工数: failed verifications within the period
	Escalated     int // cases escalated to the committee or beyond within the period
	OverdueEvents int // deadlines that passed within the period (the clock's overdue steps)
}

// Due is 应结案数: what should have been closed, closed or not.
func (f PeriodFigures) Due() int { return f.Closed + f.OpenDue }

// Late is 逾期数: what should have been closed on time and was not.
func (f PeriodFigures) Late() int { return max(f.Due()-f.Unsolvable-f.OnTime, 0) }

// add sums g into f.
func (f *PeriodFigures) add(g PeriodFigures) {
	f.Filed += g.Filed
	f.OnSpot += g.OnSpot
	f.Closed += g.Closed
	f.Unsolvable += g.Unsolvable
	f.OnTime += g.OnTime
	f.OpenDue += g.OpenDue
	f.Handled += g.Handled
	f.Reworked += g.Reworked
	f.Escalated += g.Escalated
	f.OverdueEvents += g.OverdueEvents
}

// FiledCount counts the cases filed in a period by district, source and plan
// category.
type FiledCount struct {
	District string
	Source   Source
	Plan     string
	N        int
}

// Hotspot is a grid where the same category (GB/T code) was reported again
// and again.
type Hotspot struct {
	District string
	Grid     string
	Code     string
	Category string
	N        int
}

// HotspotWindow and HotspotMin define a repeat hotspot: the same grid and
// category at least HotspotMin times within HotspotWindow before the end of
// the period.
const (
	HotspotWindow = 30 * 24 * time.Hour
	HotspotMin    = 3
)

// Count is a count of something named by a code.
type Count struct {
	Code string
	N    int
}

// PackInput is what a weekly or monthly pack is computed from: the store's
// figures and the rhythm records of the period.
type PackInput struct {
	Roster *roster.Roster
	Period Period
	AsOf   time.Time // the period's end, or now while it runs
	// WeeksAsOf is when the weeks of visit completion are counted to (zero:
	// AsOf). A week belongs to the month of its Thursday and may end up to
	// three days after the month does: counted as of now, it is counted in
	// its month once it has ended.
	WeeksAsOf  time.Time
	Figures    []PeriodFigures
	Filed      []FiledCount
	Hotspots   []Hotspot
	Open       []DayCounts // open cases now, per district (OpenOverdue)
	Patrols    []Patrol
	Visits     []Visit
	Activities []Activity
}

// Pack is the weekly (周例会) or monthly (月例会) pack: per district and for
// the whole subdistrict.
type Pack struct {
	Period    Period
	AsOf      time.Time
	Districts []PackDistrict // roster order
	Total     PackDistrict   // District ""
}

// PackDistrict is one district's pack (or the total).
type PackDistrict struct {
	District string
	Name     string
	PeriodFigures
	BySource    []Count // by source code, largest first
	ByPlan      []Count // by plan category, largest first
	OpenOverdue int     // open and overdue now
	Hotspots    []Hotspot
	Patrol      Ratio // grid-days
	Visits      Ratio // officer-community-weeks
	Activities  Ratio // officers with an activity (months only)
}

// Partial reports whether the period had not ended at AsOf.
func (p Pack) Partial() bool { return p.AsOf.Before(p.Period.To) }

// BuildPack computes the pack. It does no I/O.
func BuildPack(in PackInput) Pack {
	r := in.Roster
	out := Pack{Period: in.Period, AsOf: in.AsOf}
	days := in.Period.Days(in.AsOf)
	weeksAsOf := in.WeeksAsOf
	if weeksAsOf.IsZero() {
		weeksAsOf = in.AsOf
	}
	weeks := in.Period.Weeks(weeksAsOf)
	done := patrolled(in.Patrols)
	seen := visited(in.Visits, weeks)
	acts := map[string][]Activity{}
	for _, a := range in.Activities {
		acts[a.District] = append(acts[a.District], a)
	}
	figs := map[string]PeriodFigures{}
	for _, f := range in.Figures {
		figs[f.District] = f
	}
	open := map[string]int{}
	for _, o := range in.Open {
		open[o.District] = o.Overdue
	}
	x := indexRoster(r)
	total := PackDistrict{Name: r.Subdistrict.Name}
	bySource, byPlan := map[string]map[string]int{}, map[string]map[string]int{}
	for _, f := range in.Filed {
		for _, k := range []string{f.District, ""} {
			if bySource[k] == nil {
				bySource[k], byPlan[k] = map[string]int{}, map[string]int{}
			}
			bySource[k][string(f.Source)] += f.N
			byPlan[k][f.Plan] += f.N
		}
	}
	for _, d := range r.Districts {
		pd := PackDistrict{District: d.ID, Name: d.Name, PeriodFigures: figs[d.ID], OpenOverdue: open[d.ID]}
		pd.PeriodFigures.District = d.ID
		pd.BySource, pd.ByPlan = counts(bySource[d.ID]), counts(byPlan[d.ID])
		for _, h := range in.Hotspots {
			if h.District == d.ID {
				pd.Hotspots = append(pd.Hotspots, h)
			}
		}
		pd.Patrol = patrolCoverage(x.grids[d.ID], done, days)
		pd.Visits = visitCompletion(x.duties[d.ID], seen, weeks)
		if in.Period.Kind == PeriodMonth {
			pd.Activities = activityCompletion(x.officers[d.ID], d.ID, in.Period, acts[d.ID])
		}
		out.Districts = append(out.Districts, pd)

		total.PeriodFigures.add(pd.PeriodFigures)
		total.OpenOverdue += pd.OpenOverdue
		total.Hotspots = append(total.Hotspots, pd.Hotspots...)
		total.Patrol = Ratio{total.Patrol.Done + pd.Patrol.Done, total.Patrol.Total + pd.Patrol.Total}
		total.Visits = Ratio{total.Visits.Done + pd.Visits.Done, total.Visits.Total + pd.Visits.Total}
		total.Activities = Ratio{total.Activities.Done + pd.Activities.Done, total.Activities.Total + pd.Activities.Total}
	}
	total.BySource, total.ByPlan = counts(bySource[""]), counts(byPlan[""])
	slices.SortStableFunc(total.Hotspots, func(a, b Hotspot) int { return cmp.Compare(b.N, a.N) })
	out.Total = total
	return out
}

// counts sorts a tally largest first, then by code.
func counts(m map[string]int) []Count {
	out := make([]Count, 0, len(m))
	for k, n := range m {
		out = append(out, Count{Code: k, N: n})
	}
	slices.SortFunc(out, func(a, b Count) int {
		if c := cmp.Compare(b.N, a.N); c != 0 {
			return c
		}
		return cmp.Compare(a.Code, b.Code)
	})
	return out
}
