package bot

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"gridbot/bot/roster"
	"gridbot/templates"
)

// ReportStore is the store of the aggregate queries behind the digests, the
// packs, the assessment and the ledgers. Each answers from SQL aggregates
// (GROUP BY on indexed columns), so it stays fast on a million cases.
type ReportStore interface {
	// DayCounts counts, per district (only district's when it is not ""),
	// the cases filed and closed within [from, to) and the open ones now:
	// all, due within (now, dayEnd] and not overdue, overdue, verifying.
	DayCounts(ctx context.Context, district string, from, to, now, dayEnd time.Time) ([]DayCounts, error)
	// Attention lists, for district ("" for every district), up to limit
	// open cases of each kind: overdue at now (the earliest deadline first), due within
	// (now, dayEnd] (a deadline of 24:00 is today's), and waiting for
	// verification.
	Attention(ctx context.Context, district string, now, dayEnd time.Time, limit int) (Attention, error)
	// Period returns each district's figures of [from, to) as of asOf.
	Period(ctx context.Context, from, to, asOf time.Time) ([]PeriodFigures, error)
	// Filed counts the cases filed within [from, to) by district, source and
	// plan category.
	Filed(ctx context.Context, from, to time.Time) ([]FiledCount, error)
	// Hotspots lists the (district, grid, code) with at least min cases filed
	// within [from, to), the most first.
	Hotspots(ctx context.Context, from, to time.Time, min int) ([]Hotspot, error)
	// LedgerCases calls fn with the cases filed within [from, to), oldest
	// first, in batches of at most batch, each case with its events.
	LedgerCases(ctx context.Context, from, to time.Time, batch int, fn func([]LedgerCase) error) error
	// Sent reports which of keys are in the outbox already.
	Sent(ctx context.Context, keys []string) (map[string]bool, error)
}

// LedgerCase is a case with its history, a row of the problem ledger.
type LedgerCase struct {
	Case
	Events []Event
}

// LeaseReporter is the lease the instance that sends the digests holds.
const LeaseReporter = "reporter"

// Report kinds, the first part of their outbox keys.
const (
	ReportDigest  = "digest"
	ReportWeekly  = "weekly"
	ReportMonthly = "monthly"
)

// Reporter sends the daily digest to every group chat at At each day, the
// weekly pack (周例会) on Mondays and the monthly pack (月例会) on the 1st.
// Every message is keyed by its kind, chat and period (digest:<chat>:<date>,
// weekly:<chat>:<week>, monthly:<chat>:<month>), unique in the outbox, and
// one instance leads through a lease row: a second instance or a restart
// never sends one twice. A digest missed at At (the service was down) is
// sent when the service is back, the same day.
type Reporter struct {
	Store  ReportStore
	Rhythm Rhythm // nil: no patrol, visit or activity records
	Outbox Outbox
	Leases Leases
	T      *templates.Set
	Roster *roster.Roster
	Clock  Clock
	Zone   *time.Location
	Owner  string
	At     time.Duration // local time of day of the digest (0: 8h30m)
	Every  time.Duration // how often to check (0: 1 min)
	Policy AssessPolicy
	Limit  int // cases fetched per digest list (50)
	// StaleDays flags a grid in the digest when no patrol counted for it
	// this many days in a row (3).
	StaleDays int
	// Robots are the group robots with a webhook key configured; a chat
	// whose robot is not among them gets app chat messages. Nil trusts the
	// roster.
	Robots   map[string]bool
	OnCommit func()      // wakes the dispatcher
	OnError  func(error) // told of a failed run (Run only)

	once sync.Once
}

func (r *Reporter) init() {
	r.once.Do(func() {
		if r.Every <= 0 {
			r.Every = time.Minute
		}
		if r.Clock == nil {
			r.Clock = ClockFunc(time.Now)
		}
		if r.Zone == nil {
			r.Zone = Shanghai()
		}
		if r.At <= 0 {
			r.At = 8*time.Hour + 30*time.Minute
		}
		if r.Limit <= 0 {
			r.Limit = 50
		}
		if r.Policy == (AssessPolicy{}) {
			r.Policy = DefaultAssessPolicy()
		}
	})
}

// Run checks every Every until ctx ends.
func (r *Reporter) Run(ctx context.Context) {
	r.init()
	t := time.NewTicker(r.Every)
	defer t.Stop()
	for {
		if _, err := r.RunOnce(ctx); err != nil && r.OnError != nil && ctx.Err() == nil {
			r.OnError(err)
		}
		select {
		case <-ctx.Done():
			_ = r.Leases.Release(context.WithoutCancel(ctx), LeaseReporter, r.Owner)
			return
		case <-t.C:
		}
	}
}

// job is one report due to one chat.
type job struct {
	key    string
	kind   string
	chat   roster.Chat
	period Period
}

// RunOnce sends what is due now and not sent yet, if this instance leads;
// it returns how many messages it queued. A failure for one chat does not
// stop the others.
func (r *Reporter) RunOnce(ctx context.Context) (int, error) {
	r.init()
	ok, _, err := r.Leases.Acquire(ctx, LeaseReporter, r.Owner, 3*r.Every)
	if err != nil || !ok {
		return 0, err
	}
	now := r.Clock.Now()
	today := DayPeriod(now, r.Zone)
	if now.Before(today.From.Add(r.At)) {
		return 0, nil
	}
	jobs := r.due(today)
	keys := make([]string, len(jobs))
	for i, j := range jobs {
		keys[i] = j.key
	}
	sent, err := r.Store.Sent(ctx, keys)
	if err != nil {
		return 0, err
	}
	run := &reportRun{r: r, now: now, packs: map[string]*packResult{}}
	n := 0
	var errs []error
	for _, j := range jobs {
		if sent[j.key] {
			continue
		}
		content, max, err := run.render(ctx, j)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", j.key, err))
			continue
		}
		if len(content) > max {
			content = cutBytes(content, max)
		}
		if err := r.Outbox.Enqueue(ctx, chatItem(j.key, j.chat, content)); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", j.key, err))
			continue
		}
		n++
	}
	if n > 0 && r.OnCommit != nil {
		r.OnCommit()
	}
	return n, errors.Join(errs...)
}

// due lists today's reports: every chat's digest, on Mondays the pack of
// the week before, on the 1st the pack of the month before.
func (r *Reporter) due(today Period) []job {
	var out []job
	week := WeekPeriod(today.From.AddDate(0, 0, -1), r.Zone)
	month := MonthPeriod(today.From.AddDate(0, 0, -1), r.Zone)
	for _, c := range r.Roster.Chats {
		if c.District != "" {
			if _, ok := r.Roster.District(c.District); !ok {
				continue
			}
		}
		if c.Robot != "" && r.Robots != nil && !r.Robots[c.Robot] {
			c.Robot = "" // no webhook key: as an app chat
		}
		out = append(out, job{key: ReportKey(ReportDigest, c.ID, today), kind: ReportDigest, chat: c, period: today})
		if today.From.Weekday() == time.Monday {
			out = append(out, job{key: ReportKey(ReportWeekly, c.ID, week), kind: ReportWeekly, chat: c, period: week})
		}
		if today.From.Day() == 1 {
			out = append(out, job{key: ReportKey(ReportMonthly, c.ID, month), kind: ReportMonthly, chat: c, period: month})
		}
	}
	return out
}

// ReportKey is the outbox key of a report to a chat for a period:
// digest:<chat>:<YYYY-MM-DD>, weekly:<chat>:<YYYY-Www>, monthly:<chat>:<YYYY-MM>.
func ReportKey(kind, chatID string, p Period) string {
	return kind + ":" + chatID + ":" + p.Label
}

// chatItem sends markdown to a chat: through its robot when it has one,
// else as an app chat message.
func chatItem(key string, c roster.Chat, content string) OutboxItem {
	if c.Robot != "" {
		return NewWebhookMarkdown(key, c.Robot, content)
	}
	return NewAppChatMarkdown(key, c.ID, content)
}

// ChatLimit is the markdown size limit of a chat: 4096 bytes through a
// robot, 2048 as an app chat.
func ChatLimit(c roster.Chat) int {
	if c.Robot != "" {
		return MaxRobotMarkdown
	}
	return MaxAppChatMarkdown
}

// reportRun shares what one run reads among its chats.
type reportRun struct {
	r      *Reporter
	now    time.Time
	single bool        // one chat only: count only its district
	counts []DayCounts // every district's, read once
	rhythm *digestRhythm
	packs  map[string]*packResult
}

type digestRhythm struct {
	patrols []Patrol
	visits  []Visit
}

type packResult struct {
	pack   Pack
	assess *Assessment
}

func (run *reportRun) render(ctx context.Context, j job) (string, int, error) {
	max := ChatLimit(j.chat)
	switch j.kind {
	case ReportDigest:
		d, err := run.digest(ctx, j.chat.District)
		if err != nil {
			return "", 0, err
		}
		s, err := RenderDigest(run.r.T, d, max)
		return s, max, err
	default:
		pr, err := run.pack(ctx, j.period)
		if err != nil {
			return "", 0, err
		}
		s, err := RenderPack(run.r.T, run.r.Roster, pr.pack, pr.assess, j.chat.District, max)
		return s, max, err
	}
}

func (run *reportRun) digest(ctx context.Context, district string) (templates.DigestData, error) {
	r := run.r
	today := DayPeriod(run.now, r.Zone)
	yesterday := DayPeriod(today.From.AddDate(0, 0, -1), r.Zone)
	if run.counts == nil {
		which := ""
		if run.single {
			which = district
		}
		c, err := r.Store.DayCounts(ctx, which, yesterday.From, yesterday.To, run.now, today.To)
		if err != nil {
			return templates.DigestData{}, err
		}
		run.counts = c
	}
	if run.rhythm == nil {
		rh, err := r.digestRhythm(ctx, run.now)
		if err != nil {
			return templates.DigestData{}, err
		}
		run.rhythm = rh
	}
	att, err := r.Store.Attention(ctx, district, run.now, today.To, r.Limit)
	if err != nil {
		return templates.DigestData{}, err
	}
	return BuildDigest(DigestInput{Roster: r.Roster, T: r.T, District: district, Now: run.now, Zone: r.Zone,
		Counts: run.counts, Attention: att, Patrols: run.rhythm.patrols, Visits: run.rhythm.visits, StaleDays: run.r.staleDays()}), nil
}

func (run *reportRun) pack(ctx context.Context, p Period) (*packResult, error) {
	if pr := run.packs[p.Label]; pr != nil {
		return pr, nil
	}
	pack, err := run.r.Pack(ctx, p, run.now)
	if err != nil {
		return nil, err
	}
	pr := &packResult{pack: pack}
	if p.Kind == PeriodMonth {
		a := Assess(pack, run.r.Policy)
		pr.assess = &a
	}
	run.packs[p.Label] = pr
	return pr, nil
}

func (r *Reporter) staleDays() int {
	if r.StaleDays <= 0 {
		return 3
	}
	return r.StaleDays
}

// digestRhythm reads the patrols of the last StaleDays days and this
// week's visits.
func (r *Reporter) digestRhythm(ctx context.Context, now time.Time) (*digestRhythm, error) {
	rh := &digestRhythm{}
	if r.Rhythm == nil {
		return rh, nil
	}
	today := DayPeriod(now, r.Zone)
	var err error
	if rh.patrols, err = r.Rhythm.Patrols(ctx, today.From.AddDate(0, 0, -r.staleDays()), today.From); err != nil {
		return nil, err
	}
	if rh.visits, err = r.Rhythm.Visits(ctx, WeekPeriod(now, r.Zone).From, now); err != nil {
		return nil, err
	}
	return rh, nil
}

// Digest renders the digest chat would get at now, cut to its size limit.
func (r *Reporter) Digest(ctx context.Context, chat roster.Chat, now time.Time) (string, error) {
	r.init()
	if chat.Robot != "" && r.Robots != nil && !r.Robots[chat.Robot] {
		chat.Robot = ""
	}
	run := &reportRun{r: r, now: now, single: true, packs: map[string]*packResult{}}
	s, _, err := run.render(ctx, job{kind: ReportDigest, chat: chat, period: DayPeriod(now, r.Zone)})
	return s, err
}

// Pack computes the pack of p as of now (p's end once it is over).
func (r *Reporter) Pack(ctx context.Context, p Period, now time.Time) (Pack, error) {
	r.init()
	asOf := p.To
	if now.Before(asOf) {
		asOf = now
	}
	in := PackInput{Roster: r.Roster, Period: p, AsOf: asOf, WeeksAsOf: now}
	var err error
	if in.Figures, err = r.Store.Period(ctx, p.From, p.To, asOf); err != nil {
		return Pack{}, err
	}
	if in.Filed, err = r.Store.Filed(ctx, p.From, p.To); err != nil {
		return Pack{}, err
	}
	if in.Hotspots, err = r.Store.Hotspots(ctx, asOf.Add(-HotspotWindow), asOf, HotspotMin); err != nil {
		return Pack{}, err
	}
	if in.Open, err = r.Store.DayCounts(ctx, "", now, now, now, now); err != nil {
		return Pack{}, err
	}
	if r.Rhythm != nil {
		if in.Patrols, err = r.Rhythm.Patrols(ctx, p.From, asOf); err != nil {
			return Pack{}, err
		}
		if weeks := p.Weeks(now); len(weeks) > 0 {
			if in.Visits, err = r.Rhythm.Visits(ctx, weeks[0].From, weeks[len(weeks)-1].To); err != nil {
				return Pack{}, err
			}
		}
		if p.Kind == PeriodMonth {
			if in.Activities, err = r.Rhythm.Activities(ctx, p.From, p.To); err != nil {
				return Pack{}, err
			}
		}
	}
	return BuildPack(in), nil
}

// Assessment computes the monthly assessment of month as of now.
func (r *Reporter) Assessment(ctx context.Context, month Period, now time.Time) (Assessment, error) {
	r.init()
	if month.Kind != PeriodMonth {
		return Assessment{}, Errorf(EINVALID, "the assessment is monthly")
	}
	pack, err := r.Pack(ctx, month, now)
	if err != nil {
		return Assessment{}, err
	}
	return Assess(pack, r.Policy), nil
}

// packListCap is the most items a pack list starts with before it is cut to
// the message size.
const packListCap = 10

// PackData is the pack's data for district's chat ("" for the committee's:
// the subdistrict's totals and one line a district), with the assessment
// when a is set.
func PackData(r *roster.Roster, pack Pack, a *Assessment, district string) templates.PackData {
	p := pack.Period
	d := templates.PackData{Monthly: p.Kind == PeriodMonth, Committee: district == "",
		Year: p.From.Year(), Month: int(p.From.Month()), FromMonth: int(p.From.Month()), FromDay: p.From.Day()}
	last := p.To.AddDate(0, 0, -1)
	d.ToMonth, d.ToDay = int(last.Month()), last.Day()
	if p.Kind == PeriodWeek {
		_, d.Week = p.From.ISOWeek()
	}
	pd := pack.Total
	var row *AssessRow
	if a != nil && district == "" {
		row = &a.Total
	}
	for i := range pack.Districts {
		if pack.Districts[i].District == district {
			pd = pack.Districts[i]
		}
	}
	if a != nil {
		for i := range a.Rows {
			if a.Rows[i].District == district && district != "" {
				row = &a.Rows[i]
			}
		}
	}
	d.Name = pd.Name
	f := pd.PeriodFigures
	d.Filed, d.OnSpot, d.Closed, d.OnTime, d.Unsolvable = f.Filed, f.OnSpot, f.Closed, f.OnTime, f.Unsolvable
	d.OpenOverdue, d.OverdueEvents, d.Escalated = pd.OpenOverdue, f.OverdueEvents, f.Escalated
	d.Handled, d.Reworked = f.Handled, f.Reworked
	for _, c := range pd.BySource {
		d.BySource = append(d.BySource, templates.PackCount{Code: c.Code, N: c.N})
	}
	for i, c := range pd.ByPlan {
		if i >= packListCap {
			d.ByPlanMore += c.N
			continue
		}
		d.ByPlan = append(d.ByPlan, templates.PackCount{Code: c.Code, Name: c.Code, N: c.N})
	}
	for _, h := range pd.Hotspots {
		ph := templates.PackHotspot{Grid: h.Grid, Category: h.Category, N: h.N}
		if g, ok := r.Grid(h.Grid); ok {
			ph.Grid = g.Name
		}
		if district == "" {
			if dist, ok := r.District(h.District); ok {
				ph.District = dist.Name
			}
		}
		d.Hotspots = append(d.Hotspots, ph)
	}
	capList(&d.Hotspots, &d.HotspotsMore, packListCap)
	d.Patrol, d.Visits, d.Activities = packRatio(pd.Patrol), packRatio(pd.Visits), packRatio(pd.Activities)
	if row != nil {
		d.Score, d.Grade, d.Rank, d.Small = fmt.Sprintf("%.1f", row.Score), row.Grade, row.Rank, row.Small
	}
	if district == "" {
		scores := map[string]AssessRow{}
		if a != nil {
			for _, ar := range a.Rows {
				scores[ar.District] = ar
			}
		}
		for _, x := range pack.Districts {
			l := templates.PackLine{Name: x.Name, Filed: x.Filed, Closed: x.Closed, OnTime: x.OnTime,
				OpenOverdue: x.OpenOverdue, Reworked: x.Reworked, Patrol: packRatio(x.Patrol), Visits: packRatio(x.Visits)}
			if ar, ok := scores[x.District]; ok {
				l.Score, l.Grade, l.Rank = fmt.Sprintf("%.1f", ar.Score), ar.Grade, ar.Rank
			}
			d.Districts = append(d.Districts, l)
		}
	}
	return d
}

func packRatio(r Ratio) templates.PackRatio {
	return templates.PackRatio{Done: r.Done, Total: r.Total, Pct: r.Pct()}
}

// RenderPack renders the pack for district's chat ("" for the committee)
// as markdown of at most max bytes.
func RenderPack(t *templates.Set, r *roster.Roster, pack Pack, a *Assessment, district string, max int) (string, error) {
	d := PackData(r, pack, a, district)
	return fitMarkdown(func() (string, error) { return t.Render(templates.DigestPack, d) }, max, []trimmer{
		listTrimmer(&d.Districts, &d.DistrictsMore, func(l templates.PackLine) int { return len(l.Name) + 50 }),
		listTrimmer(&d.Hotspots, &d.HotspotsMore, func(h templates.PackHotspot) int { return len(h.District) + len(h.Grid) + len(h.Category) + 10 }),
		{
			size: func() int { return 20 * len(d.ByPlan) },
			last: func() int { return 20 },
			pop: func() {
				d.ByPlanMore += d.ByPlan[len(d.ByPlan)-1].N
				d.ByPlan = d.ByPlan[:len(d.ByPlan)-1]
			},
		},
	})
}
