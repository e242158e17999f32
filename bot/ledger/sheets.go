package ledger

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"gridbot/bot"
	"gridbot/templates"
)

// maxCellChars is Excel's limit on the text of one cell.
const maxCellChars = 32767

// maxNoteRunes is how much of a step's note the history in brief keeps.
const maxNoteRunes = 60

// name is a person's name, or the userid when they are not on the roster.
func (b *book) name(user string) string {
	if p, ok := b.e.Reporter.Roster.Person(user); ok {
		return p.Name
	}
	return user
}

func (b *book) districtName(id string) string {
	if d, ok := b.e.Reporter.Roster.District(id); ok {
		return d.Name
	}
	return id
}

func (b *book) communityName(id string) string {
	if c, ok := b.e.Reporter.Roster.Community(id); ok {
		return c.Name
	}
	return id
}

func (b *book) gridName(id string) string {
	if g, ok := b.e.Reporter.Roster.Grid(id); ok {
		return g.Name
	}
	return id
}

// cases writes the problem ledger: one row per case filed in the period.
func (e *Exporter) cases(ctx context.Context, b *book, progress Progress) error {
	r := e.Reporter
	filed, err := r.Store.Filed(ctx, b.period.From, b.asOf)
	if err != nil {
		return err
	}
	total := 0
	for _, f := range filed {
		total += f.N
	}
	s, err := b.newSheet("cases", "cases", total,
		[]float64{17, 10, 16, 9, 10, 10, 16, 20, 36, 18, 8, 17, 17, 12, 14, 12, 17, 9, 9, 7, 60})
	if err != nil {
		return err
	}
	done := 0
	progress(0, total)
	err = r.Store.LedgerCases(ctx, b.period.From, b.asOf, e.Batch, func(page []bot.LedgerCase) error {
		for _, k := range page {
			if err := s.put(b.caseRow(k)); err != nil {
				return err
			}
		}
		done += len(page)
		progress(done, max(total, done))
		return nil
	})
	if err != nil {
		return err
	}
	return s.close()
}

// caseRow is a case as the ledger shows it; the resident's phone is masked.
func (b *book) caseRow(k bot.LedgerCase) []any {
	resident := strings.TrimSpace(k.ResidentName + " " + bot.MaskPhone(k.ResidentPhone))
	holder := ""
	if k.Status.Open() {
		holder = bot.HolderWords(b.t, b.e.Reporter.Roster, bot.CaseBrief{No: k.No, District: k.District, Grid: k.Grid,
			Status: k.Status, Assignee: k.Assignee, Partner: k.Partner})
	} else if k.Assignee != "" {
		holder = b.name(k.Assignee)
	}
	closeCode := ""
	if k.CloseCode != "" {
		closeCode = b.word(templates.CloseCode, string(k.CloseCode))
	}
	overdue := b.value("no")
	if k.Overdue {
		overdue = b.value("yes")
	}
	return []any{
		b.txt(k.No), b.txt(b.word(templates.SourceW, string(k.Source))), b.txt(k.Category), b.txt(k.Code),
		b.txt(b.districtName(k.District)), b.txt(b.communityName(k.Community)), b.txt(b.gridName(k.Grid)),
		b.wrap(k.Place), b.wrap(k.Text), b.txt(resident), b.txt(b.name(k.Reporter)),
		b.date(k.CreatedAt), b.date(k.DueAt), b.txt(b.word(templates.Status, string(k.Status))), b.txt(holder),
		b.txt(closeCode), b.date(k.ClosedAt), b.txt(overdue), b.num(k.Rework), b.num(k.Supports),
		b.wrap(b.timeline(k.Events)),
	}
}

// timeline is a case's history in brief: when, who, what, and the note.
// Refused attempts are left out.
func (b *book) timeline(events []bot.Event) string {
	var d templates.TimelineData
	for _, e := range events {
		if e.Denied {
			continue
		}
		actor := ""
		if e.Actor != "system" {
			actor = b.name(e.Actor)
		}
		note := []rune(strings.Join(strings.Fields(e.Note), " "))
		if len(note) > maxNoteRunes {
			note = append(note[:maxNoteRunes-1], '…')
		}
		d.Items = append(d.Items, templates.TimelineItem{When: e.At.In(b.zone).Format("01-02 15:04"), Actor: actor,
			Action: string(e.Action), Note: string(note)})
	}
	s := b.word(templates.ReportTimeline, d)
	if utf8.RuneCountInString(s) > maxCellChars {
		s = string([]rune(s)[:maxCellChars-1]) + "…"
	}
	return s
}

// patrols writes the patrol ledger: every patrol started in the period, and
// each day's coverage per district.
func (e *Exporter) patrols(ctx context.Context, b *book, progress Progress) error {
	r := e.Reporter
	var patrols []bot.Patrol
	if r.Rhythm != nil {
		var err error
		if patrols, err = r.Rhythm.Patrols(ctx, b.period.From, b.asOf); err != nil {
			return err
		}
	}
	s, err := b.newSheet("patrols", "patrols", len(patrols), []float64{12, 10, 10, 16, 9, 17, 17, 11, 9, 9, 9})
	if err != nil {
		return err
	}
	for i, p := range patrols {
		district := p.District
		community := ""
		if g, ok := r.Roster.Grid(p.Grid); ok {
			district, community = g.District, g.Community
		}
		day, _ := time.ParseInLocation(time.DateOnly, p.Day, b.zone)
		minutes := excelize.Cell{StyleID: b.st.number}
		if !p.EndedAt.IsZero() {
			minutes.Value = int(p.EndedAt.Sub(p.StartedAt).Round(time.Minute).Minutes())
		}
		counts := b.value("no")
		if p.Counts {
			counts = b.value("yes")
		}
		if err := s.put([]any{b.day(day), b.txt(b.districtName(district)), b.txt(b.communityName(community)),
			b.txt(b.gridName(p.Grid)), b.txt(b.name(p.UserID)), b.date(p.StartedAt), b.date(p.EndedAt), minutes,
			b.num(p.Points), b.txt(counts), b.txt(b.value(p.Source))}); err != nil {
			return err
		}
		if i%1000 == 999 {
			progress(i+1, len(patrols))
		}
	}
	if err := s.close(); err != nil {
		return err
	}

	days := b.period.Days(b.asOf)
	cov, err := b.newSheet("coverage", "patrols", 0, []float64{12, 10, 9, 9, 9, 60})
	if err != nil {
		return err
	}
	done := map[string]bool{}
	for _, p := range patrols {
		if p.Counts {
			done[p.Grid+"|"+p.Day] = true
		}
	}
	sep := b.value("sep")
	for _, d := range days {
		for _, dist := range r.Roster.Districts {
			var ratio bot.Ratio
			var missed []string
			for _, g := range r.Roster.GridsOf(dist.ID) {
				ratio.Total++
				if done[g.ID+"|"+d.Label] {
					ratio.Done++
				} else {
					missed = append(missed, g.Name)
				}
			}
			if err := cov.put([]any{b.day(d.From), b.txt(dist.Name), b.num(ratio.Total), b.num(ratio.Done), b.rate(ratio),
				b.wrap(strings.Join(missed, sep))}); err != nil {
				return err
			}
		}
	}
	progress(len(patrols), len(patrols))
	return cov.close()
}

// visits writes the visit and activity ledger: every sign-in of the period,
// each week's completion per officer and community, and the activities.
func (e *Exporter) visits(ctx context.Context, b *book, progress Progress) error {
	r := e.Reporter
	weeks := b.period.Weeks(b.now) // a month's last week may end after it (see bot.PackInput.WeeksAsOf)
	from, to := b.period.From, b.asOf
	if len(weeks) > 0 {
		if weeks[0].From.Before(from) {
			from = weeks[0].From
		}
		if last := weeks[len(weeks)-1].To; last.After(to) {
			to = last
		}
	}
	var visits []bot.Visit
	var acts []bot.Activity
	if r.Rhythm != nil {
		var err error
		if visits, err = r.Rhythm.Visits(ctx, from, to); err != nil {
			return err
		}
		if acts, err = r.Rhythm.Activities(ctx, b.period.From, b.period.To); err != nil {
			return err
		}
	}
	inPeriod := slices.DeleteFunc(slices.Clone(visits), func(v bot.Visit) bool {
		return v.At.Before(b.period.From) || !v.At.Before(b.asOf)
	})
	s, err := b.newSheet("visits", "visits", len(inPeriod), []float64{12, 17, 9, 8, 10, 10, 40})
	if err != nil {
		return err
	}
	for _, v := range inPeriod {
		if err := s.put([]any{b.day(v.At), b.date(v.At), b.txt(b.name(v.UserID)), b.txt(v.Dept),
			b.txt(b.districtName(v.District)), b.txt(b.communityName(v.Community)), b.wrap(v.Note)}); err != nil {
			return err
		}
	}
	if err := s.close(); err != nil {
		return err
	}

	ws, err := b.newSheet("visit_weeks", "visits", 0, []float64{10, 14, 9, 8, 10, 10, 9, 9})
	if err != nil {
		return err
	}
	for _, w := range weeks {
		last := w.To.AddDate(0, 0, -1)
		span := w.From.Format("01-02") + "—" + last.Format("01-02")
		for _, dist := range r.Roster.Districts {
			for _, duty := range bot.VisitDuties(r.Roster, dist.ID) {
				n := 0
				for _, v := range visits {
					if v.UserID == duty.Officer.UserID && v.Community == duty.Community.ID && !v.At.Before(w.From) && v.At.Before(w.To) {
						n++
					}
				}
				status := b.value("missing")
				if n > 0 {
					status = b.value("done")
				}
				if err := ws.put([]any{b.txt(w.Label), b.txt(span), b.txt(duty.Officer.Name), b.txt(string(duty.Officer.Dept)),
					b.txt(dist.Name), b.txt(duty.Community.Name), b.num(n), b.txt(status)}); err != nil {
					return err
				}
			}
		}
	}
	if err := ws.close(); err != nil {
		return err
	}

	as, err := b.newSheet("activities", "visits", len(acts), []float64{9, 17, 9, 8, 10, 14, 30, 20, 9, 8})
	if err != nil {
		return err
	}
	for _, a := range acts {
		if err := as.put([]any{b.txt(a.Month), b.date(a.At), b.txt(b.name(a.UserID)), b.txt(a.Dept),
			b.txt(b.districtName(a.District)), b.txt(b.value(a.Kind)), b.wrap(a.Topic), b.wrap(a.Place),
			b.num(a.Attendance), b.num(len(a.Photos))}); err != nil {
			return err
		}
	}
	progress(len(inPeriod)+len(acts), len(inPeriod)+len(acts))
	return as.close()
}

// assessment writes the monthly assessment, ranked, with the whole
// subdistrict's row and a sheet of definitions.
func (e *Exporter) assessment(ctx context.Context, b *book, progress Progress) error {
	a, err := e.Reporter.Assessment(ctx, b.period, b.now)
	if err != nil {
		return err
	}
	s, err := b.newSheet("assessment", "assessment", 0,
		[]float64{6, 12, 8, 9, 8, 8, 10, 8, 8, 8, 9, 10, 9, 10, 10, 10, 8, 6, 10})
	if err != nil {
		return err
	}
	for _, row := range a.Rows {
		if err := s.put(b.assessRow(row)); err != nil {
			return err
		}
	}
	total := a.Total
	total.Name = b.value("total")
	if err := s.put(b.assessRow(total)); err != nil {
		return err
	}
	if err := s.close(); err != nil {
		return err
	}
	defs, err := b.newSheet("definitions", "assessment", 0, []float64{14, 100})
	if err != nil {
		return err
	}
	for _, line := range strings.Split(b.word(templates.ReportDefinitions, nil), "\n") {
		term, def, _ := strings.Cut(line, "\t")
		if err := defs.put([]any{b.txt(term), b.wrap(def)}); err != nil {
			return err
		}
	}
	progress(len(a.Rows), len(a.Rows))
	return defs.close()
}

// AssessRowCells is an assessment row as cells; Rank 0 (the total) leaves
// the rank empty.
func (b *book) assessRow(r bot.AssessRow) []any {
	f := r.Figures
	rank := excelize.Cell{StyleID: b.st.number}
	if r.Rank > 0 {
		rank.Value = r.Rank
	}
	note := ""
	if r.Small {
		note = b.value("small_sample")
	}
	return []any{rank, b.txt(r.Name), b.num(f.Filed), b.num(f.Due()), b.num(f.Closed), b.num(f.Unsolvable),
		b.num(f.OnTime), b.num(f.Late()), b.num(f.Handled), b.num(f.Reworked),
		b.indicator(r.Closure), b.indicator(r.OnTime), b.indicator(r.Rework),
		b.indicator(r.Patrol), b.indicator(r.Visits), b.indicator(r.Acts),
		excelize.Cell{StyleID: b.st.score, Value: r.Score}, b.txt(r.Grade), b.txt(note)}
}

// pack writes the weekly or monthly pack: the figures per district, the
// cases by source and category, the hotspots.
func (e *Exporter) pack(ctx context.Context, b *book, progress Progress) error {
	r := e.Reporter
	kind := KindMonthly
	if b.period.Kind == bot.PeriodWeek {
		kind = KindWeekly
	}
	pack, err := r.Pack(ctx, b.period, b.now)
	if err != nil {
		return err
	}
	s, err := b.newSheet("pack_summary", kind, 0, []float64{12, 8, 9, 8, 10, 8, 9, 9, 14, 8, 8, 11, 11, 11})
	if err != nil {
		return err
	}
	rows := append(slices.Clone(pack.Districts), pack.Total)
	rows[len(rows)-1].Name = b.value("total")
	for _, d := range rows {
		acts := b.rate(d.Activities)
		if b.period.Kind != bot.PeriodMonth {
			acts = excelize.Cell{StyleID: b.st.percent}
		}
		if err := s.put([]any{b.txt(d.Name), b.num(d.Filed), b.num(d.OnSpot), b.num(d.Closed), b.num(d.OnTime),
			b.num(d.Unsolvable), b.num(d.OpenOverdue), b.num(d.OverdueEvents), b.num(d.Escalated), b.num(d.Handled),
			b.num(d.Reworked), b.rate(d.Patrol), b.rate(d.Visits), acts}); err != nil {
			return err
		}
	}
	if err := s.close(); err != nil {
		return err
	}

	filed, err := r.Store.Filed(ctx, b.period.From, b.period.To)
	if err != nil {
		return err
	}
	order := map[string]int{}
	for i, d := range r.Roster.Districts {
		order[d.ID] = i
	}
	slices.SortStableFunc(filed, func(x, y bot.FiledCount) int {
		if c := order[x.District] - order[y.District]; c != 0 {
			return c
		}
		if c := strings.Compare(string(x.Source), string(y.Source)); c != 0 {
			return c
		}
		return y.N - x.N
	})
	bs, err := b.newSheet("pack_breakdown", kind, 0, []float64{12, 12, 14, 8})
	if err != nil {
		return err
	}
	for _, f := range filed {
		if err := bs.put([]any{b.txt(b.districtName(f.District)), b.txt(b.word(templates.SourceW, string(f.Source))),
			b.txt(f.Plan), b.num(f.N)}); err != nil {
			return err
		}
	}
	if err := bs.close(); err != nil {
		return err
	}

	hs, err := b.newSheet("pack_hotspots", kind, 0, []float64{12, 18, 9, 20, 8})
	if err != nil {
		return err
	}
	for _, h := range pack.Total.Hotspots {
		if err := hs.put([]any{b.txt(b.districtName(h.District)), b.txt(b.gridName(h.Grid)), b.txt(h.Code),
			b.txt(h.Category), b.num(h.N)}); err != nil {
			return err
		}
	}
	progress(1, 1)
	return hs.close()
}
