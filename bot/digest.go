package bot

import (
	"slices"
	"time"
	"unicode/utf8"

	"gridbot/bot/roster"
	"gridbot/templates"
)

// DayCounts are one district's case figures behind a daily digest: what was
// filed and closed within a day (yesterday) and what is open now.
type DayCounts struct {
	District  string
	New       int // filed within the day
	Closed    int // closed within the day
	Open      int // open now
	DueToday  int // open, not overdue, due later today
	Overdue   int // open and overdue: flagged by the clock or past its deadline
	Verifying int // waiting for the grid inspector's on-site check
}

// CaseBrief is a case as report lists show it. It has no resident data, so
// no phone number can reach a group chat.
type CaseBrief struct {
	ID          int64
	No          string
	District    string
	Community   string
	Grid        string
	Category    string
	Status      Status
	Assignee    string
	Partner     string
	DueAt       time.Time
	Overdue     bool
	Escalations int
}

// Attention are the open cases a digest lists, each list most urgent first
// and cut at the store's limit (the counts are in DayCounts).
type Attention struct {
	Overdue   []CaseBrief // overdue now
	DueToday  []CaseBrief // due later today
	Verifying []CaseBrief // waiting for verification
}

// DigestInput is what a daily digest is computed from.
type DigestInput struct {
	Roster    *roster.Roster
	T         *templates.Set
	District  string    // "" for the committee's digest of every district
	Now       time.Time // when the digest is made
	Zone      *time.Location
	Counts    []DayCounts // one per district (only the district's for a district digest)
	Attention Attention
	Patrols   []Patrol // of the last StaleDays days (at least yesterday's)
	Visits    []Visit  // this week's so far
	StaleDays int      // a grid unpatrolled this many days in a row is flagged (0: 3)
}

// digestListCap is the most items a digest list starts with before it is
// cut to the message size.
const digestListCap = 40

// BuildDigest computes the digest's data. It does no I/O.
func BuildDigest(in DigestInput) templates.DigestData {
	r := in.Roster
	today := DayPeriod(in.Now, in.Zone)
	yesterday := DayPeriod(today.From.AddDate(0, 0, -1), in.Zone)
	week := WeekPeriod(in.Now, in.Zone)
	week.To = in.Now // this week so far
	done := patrolled(in.Patrols)
	seen := visited(in.Visits, []Period{week})

	d := templates.DigestData{
		Committee: in.District == "",
		Month:     int(today.From.Month()), Day: today.From.Day(), Weekday: int(today.From.Weekday()),
	}
	districts := r.Districts
	if in.District != "" {
		dist, _ := r.District(in.District)
		d.Name = dist.Name
		districts = []roster.District{dist}
	} else {
		d.Name = r.Subdistrict.Name
	}
	counts := map[string]DayCounts{}
	for _, c := range in.Counts {
		counts[c.District] = c
	}
	x := indexRoster(r)
	patrol, visits := Ratio{}, Ratio{}
	for _, dist := range districts {
		c := counts[dist.ID]
		d.New += c.New
		d.Closed += c.Closed
		d.Open += c.Open
		d.DueToday += c.DueToday
		d.Overdue += c.Overdue
		d.Verifying += c.Verifying
		grids := x.grids[dist.ID]
		pr := patrolCoverage(grids, done, []Period{yesterday})
		duties := x.duties[dist.ID]
		vr := visitCompletion(duties, seen, []Period{week})
		patrol = Ratio{patrol.Done + pr.Done, patrol.Total + pr.Total}
		visits = Ratio{visits.Done + vr.Done, visits.Total + vr.Total}
		if d.Committee {
			d.Districts = append(d.Districts, templates.DigestLine{
				Name: dist.Name, New: c.New, Closed: c.Closed, DueToday: c.DueToday, Overdue: c.Overdue,
				Verifying: c.Verifying, Grids: pr.Total, Patrolled: pr.Done, Visits: vr.Total, VisitsDone: vr.Done,
			})
			continue
		}
		for _, g := range grids {
			if done[g.ID+"|"+yesterday.Label] {
				continue
			}
			m := templates.DigestMiss{Grid: g.Name, Days: 1}
			stale := in.StaleDays
			if stale <= 0 {
				stale = 3
			}
			for k := 2; k <= stale; k++ {
				if done[g.ID+"|"+DayPeriod(today.From.AddDate(0, 0, -k), in.Zone).Label] {
					break
				}
				m.Days = k
			}
			m.Stale = m.Days >= stale
			for _, p := range r.InspectorsOf(g.ID) {
				m.People = append(m.People, p.Name)
			}
			d.Missed = append(d.Missed, m)
		}
		for _, duty := range duties {
			if seen[visitedKey(duty.Officer.UserID, duty.Community.ID, week.From)] {
				continue
			}
			i := slices.IndexFunc(d.VisitsDue, func(v templates.DigestVisit) bool { return v.Officer == duty.Officer.Name })
			if i < 0 {
				d.VisitsDue = append(d.VisitsDue, templates.DigestVisit{Officer: duty.Officer.Name})
				i = len(d.VisitsDue) - 1
			}
			d.VisitsDue[i].Communities = append(d.VisitsDue[i].Communities, duty.Community.Name)
		}
	}
	d.Grids, d.Patrolled, d.PatrolPct = patrol.Total, patrol.Done, patrol.Pct()
	d.Visits, d.VisitsDone = visits.Total, visits.Done

	brief := func(list []CaseBrief, withDue bool) []templates.DigestCase {
		out := make([]templates.DigestCase, 0, len(list))
		for _, k := range list {
			out = append(out, digestCase(in.T, r, in.Zone, k, d.Committee, withDue))
		}
		return out
	}
	d.OverdueCases = brief(in.Attention.Overdue, false)
	d.DueCases = brief(in.Attention.DueToday, true)
	d.VerifyCases = brief(in.Attention.Verifying, false)
	d.OverdueMore = max(d.Overdue-len(d.OverdueCases), 0)
	d.DueMore = max(d.DueToday-len(d.DueCases), 0)
	d.VerifyMore = max(d.Verifying-len(d.VerifyCases), 0)

	capList(&d.Districts, &d.DistrictsMore, digestListCap)
	capList(&d.OverdueCases, &d.OverdueMore, digestListCap)
	capList(&d.DueCases, &d.DueMore, digestListCap)
	capList(&d.VerifyCases, &d.VerifyMore, digestListCap)
	capList(&d.Missed, &d.MissedMore, digestListCap)
	capList(&d.VisitsDue, &d.VisitsMore, digestListCap)
	return d
}

// capList keeps the first n items of list and counts the rest in more.
func capList[T any](list *[]T, more *int, n int) {
	if len(*list) > n {
		*more += len(*list) - n
		*list = (*list)[:n]
	}
}

// digestCase is a case line: number, category, grid, deadline (due today
// only) and who holds it.
func digestCase(t *templates.Set, r *roster.Roster, zone *time.Location, k CaseBrief, withDistrict, withDue bool) templates.DigestCase {
	c := templates.DigestCase{No: k.No, Category: k.Category, Grid: k.Grid, Escalations: k.Escalations,
		Holder: HolderWords(t, r, k)}
	if g, ok := r.Grid(k.Grid); ok {
		c.Grid = g.Name
	}
	if withDistrict {
		if dist, ok := r.District(k.District); ok {
			c.District = dist.Name
		}
	}
	if withDue {
		c.Due = ClockTime(k.DueAt, zone)
	}
	return c
}

// HolderWords says who holds a case, in words: the assignee's name, the
// station, the committee office, the partner body, the higher level, or the
// inspector who must verify.
func HolderWords(t *templates.Set, r *roster.Roster, k CaseBrief) string {
	h := templates.HolderData{Kind: "person", Name: k.Assignee}
	if p, ok := r.Person(k.Assignee); ok {
		h.Name = p.Name
	}
	switch k.Status {
	case StReported:
		h.Kind = "station"
		if dist, ok := r.District(k.District); ok {
			h.Name = dist.Name
		}
	case StCommittee:
		h.Kind = "committee"
	case StExternal:
		h.Kind = "external"
	case StPartner:
		h.Kind, h.Name = "partner", k.Partner
		for _, p := range r.Partners {
			if p.ID == k.Partner {
				h.Name = p.Name
			}
		}
	case StVerifying:
		h.Kind, h.Name = "inspector", ""
		if is := r.InspectorsOf(k.Grid); len(is) > 0 {
			h.Name = is[0].Name
		}
	}
	s, err := t.Render(templates.ReportHolder, h)
	if err != nil {
		return h.Name
	}
	return s
}

// ClockTime formats a local time as "11-02 18:00"; local midnight shows as
// 24:00 of the day before, as deadlines are spoken of. Zero is "".
func ClockTime(t time.Time, zone *time.Location) string {
	if t.IsZero() {
		return ""
	}
	l := t.In(zone)
	if l.Hour() == 0 && l.Minute() == 0 {
		return l.Add(-time.Minute).Format("01-02") + " 24:00"
	}
	return l.Format("01-02 15:04")
}

// Markdown size limits of WeCom, in bytes.
const (
	MaxRobotMarkdown   = 4096 // a group robot's markdown
	MaxAppChatMarkdown = 2048 // an app chat's (and an app message's) markdown
)

// trimmer is one list of a report that can lose its last item.
type trimmer struct {
	size func() int // bytes the list holds (roughly)
	last func() int // bytes its last item takes (roughly)
	pop  func()     // drops the last item and counts it as more
}

// fitMarkdown renders with render and, while the text is longer than limit
// bytes, drops items from the end of the largest lists until about three
// quarters of the excess are gone (each counted in its list's "…另有N"
// line), then renders again. When no list is left it cuts the text at a rune
// boundary.
func fitMarkdown(render func() (string, error), limit int, lists []trimmer) (string, error) {
	for {
		s, err := render()
		if err != nil || len(s) <= limit {
			return s, err
		}
		// Item sizes are estimates: drop about three quarters of the excess
		// at a time, so that a low estimate does not cut too much.
		for over := (len(s) - limit) * 3 / 4; over >= 0; {
			best := -1
			for i, l := range lists {
				if n := l.size(); n > 0 && (best < 0 || n > lists[best].size()) {
					best = i
				}
			}
			if best < 0 {
				return cutBytes(s, limit), nil
			}
			over -= max(lists[best].last(), 1)
			lists[best].pop()
		}
	}
}

// cutBytes shortens s to at most max bytes at a rune boundary, ending in "…".
func cutBytes(s string, limit int) string {
	const ell = "…"
	if len(s) <= limit {
		return s
	}
	n := max(limit-len(ell), 0)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + ell
}

// listTrimmer trims a list of a report, counting what it drops in more;
// weight is the rough size of one item.
func listTrimmer[T any](list *[]T, more *int, weight func(T) int) trimmer {
	return trimmer{
		size: func() int {
			n := 0
			for _, x := range *list {
				n += weight(x)
			}
			return n
		},
		last: func() int { return weight((*list)[len(*list)-1]) },
		pop: func() {
			*list = (*list)[:len(*list)-1]
			*more++
		},
	}
}

// RenderDigest renders d as markdown of at most max bytes, cutting its
// lists as needed.
func RenderDigest(t *templates.Set, d templates.DigestData, max int) (string, error) {
	caseSize := func(c templates.DigestCase) int {
		return len(c.No) + len(c.Category) + len(c.Grid) + len(c.Holder) + 20
	}
	return fitMarkdown(func() (string, error) { return t.Render(templates.DigestDaily, d) }, max, []trimmer{
		listTrimmer(&d.Districts, &d.DistrictsMore, func(l templates.DigestLine) int { return len(l.Name) + 40 }),
		listTrimmer(&d.OverdueCases, &d.OverdueMore, caseSize),
		listTrimmer(&d.DueCases, &d.DueMore, caseSize),
		listTrimmer(&d.VerifyCases, &d.VerifyMore, caseSize),
		listTrimmer(&d.Missed, &d.MissedMore, func(m templates.DigestMiss) int { return len(m.Grid) + 12*len(m.People) }),
		listTrimmer(&d.VisitsDue, &d.VisitsMore, func(v templates.DigestVisit) int { return len(v.Officer) + 15*len(v.Communities) }),
	})
}
