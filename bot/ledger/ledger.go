// Package ledger writes gridbot's ledgers (台账) and reports as Excel
// workbooks: the problem ledger (one row per case, with its history in
// brief), the patrol ledger, the visit and activity ledger, the monthly
// assessment and the weekly and monthly packs.
//
// Every sheet has the layout a Chinese office expects: a merged title row
// ("董家街道城市管理问题台账（2026年11月）"), a line saying when it was made,
// Chinese column headers, the header rows frozen, sensible widths, and
// dates as real Excel dates with a date format. Sheets are written with
// excelize's StreamWriter, so a month of a city's cases does not sit in
// memory. Residents' phones are masked (138****8000). Every word comes from
// templates.
package ledger

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"gridbot/bot"
	"gridbot/templates"
)

// Export kinds: the {kind} of `gridbot export {kind}` and of
// /api/export/{kind}.xlsx.
const (
	KindLedger     = "ledger"     // 问题台账: one row per case filed in the period
	KindPatrols    = "patrols"    // 巡查台账: every patrol, and each day's coverage
	KindVisits     = "visits"     // 走访与活动台账: sign-ins, weekly completion, activities
	KindAssessment = "assessment" // 月度考核 (a month)
	KindWeekly     = "weekly"     // 周例会材料 (a week)
	KindMonthly    = "monthly"    // 月例会材料 (a month)
)

// Kinds lists the export kinds.
func Kinds() []string {
	return []string{KindLedger, KindPatrols, KindVisits, KindAssessment, KindWeekly, KindMonthly}
}

// Progress is told, now and then, how many rows are written of how many.
type Progress func(done, total int)

// Exporter writes the workbooks from the reporter's store, rhythm records,
// roster and templates.
type Exporter struct {
	Reporter *bot.Reporter
	Clock    bot.Clock // when the workbook is made; nil: the reporter's
	Batch    int       // cases read at a time (500)
}

// ParsePeriod reads the period of an export kind: a week ("2026-W45" or a
// date of it) for weekly, a month ("2026-11") for the others.
func ParsePeriod(kind, s string, zone *time.Location) (bot.Period, error) {
	if !validKind(kind) {
		return bot.Period{}, bot.Errorf(bot.EINVALID, "no export %q; the exports are %s", kind, strings.Join(Kinds(), ", "))
	}
	if kind == KindWeekly {
		return bot.ParseWeek(s, zone)
	}
	return bot.ParseMonth(s, zone)
}

func validKind(kind string) bool {
	for _, k := range Kinds() {
		if k == kind {
			return true
		}
	}
	return false
}

// FileName is the workbook's file name: ledger-2026-11.xlsx.
func FileName(kind string, p bot.Period) string {
	return kind + "-" + p.Label + ".xlsx"
}

// ContentType is the MIME type of an xlsx workbook.
const ContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// Export writes the workbook of kind for p to w. progress may be nil.
func (e *Exporter) Export(ctx context.Context, kind string, p bot.Period, w io.Writer, progress Progress) error {
	if !validKind(kind) {
		return bot.Errorf(bot.EINVALID, "no export %q; the exports are %s", kind, strings.Join(Kinds(), ", "))
	}
	switch {
	case kind == KindWeekly && p.Kind != bot.PeriodWeek:
		return bot.Errorf(bot.EINVALID, "the weekly pack covers a week")
	case kind != KindWeekly && p.Kind != bot.PeriodMonth:
		return bot.Errorf(bot.EINVALID, "the %s export covers a month", kind)
	}
	if progress == nil {
		progress = func(int, int) {}
	}
	b, err := e.newBook(p)
	if err != nil {
		return err
	}
	defer b.f.Close()
	switch kind {
	case KindLedger:
		err = e.cases(ctx, b, progress)
	case KindPatrols:
		err = e.patrols(ctx, b, progress)
	case KindVisits:
		err = e.visits(ctx, b, progress)
	case KindAssessment:
		err = e.assessment(ctx, b, progress)
	default:
		err = e.pack(ctx, b, progress)
	}
	if err != nil {
		return err
	}
	if err := b.f.Write(w); err != nil {
		return fmt.Errorf("ledger: write the workbook: %w", err)
	}
	return nil
}

// book is a workbook being written, with its styles and the words it needs.
type book struct {
	e      *Exporter
	f      *excelize.File
	t      *templates.Set
	period bot.Period
	now    time.Time
	asOf   time.Time
	zone   *time.Location
	sheets int
	st     styles
}

// styles are the cell styles of every sheet.
type styles struct {
	title, subtitle, header, text, wrap, number, date, day, percent, score int
}

func (e *Exporter) newBook(p bot.Period) (*book, error) {
	r := e.Reporter
	zone := r.Zone
	if zone == nil {
		zone = bot.Shanghai()
	}
	clock := e.Clock
	if clock == nil {
		clock = r.Clock
	}
	if clock == nil {
		clock = bot.ClockFunc(time.Now)
	}
	now := clock.Now()
	asOf := p.To
	if now.Before(asOf) {
		asOf = now
	}
	b := &book{e: e, f: excelize.NewFile(), t: r.T, period: p, now: now, asOf: asOf, zone: zone}
	if err := b.makeStyles(); err != nil {
		b.f.Close()
		return nil, err
	}
	return b, nil
}

func (b *book) makeStyles() error {
	border := []excelize.Border{
		{Type: "left", Color: "999999", Style: 1}, {Type: "right", Color: "999999", Style: 1},
		{Type: "top", Color: "999999", Style: 1}, {Type: "bottom", Color: "999999", Style: 1},
	}
	dateFmt, dayFmt := "yyyy-mm-dd hh:mm", "yyyy-mm-dd"
	middle := &excelize.Alignment{Vertical: "center"}
	specs := []struct {
		dst   *int
		style excelize.Style
	}{
		{&b.st.title, excelize.Style{Font: &excelize.Font{Bold: true, Size: 16}, Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}}},
		{&b.st.subtitle, excelize.Style{Font: &excelize.Font{Size: 10, Color: "666666"}, Alignment: middle}},
		{&b.st.header, excelize.Style{Font: &excelize.Font{Bold: true}, Border: border,
			Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"D9E1F2"}},
			Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}}},
		{&b.st.text, excelize.Style{Border: border, Alignment: middle}},
		{&b.st.wrap, excelize.Style{Border: border, Alignment: &excelize.Alignment{Vertical: "center", WrapText: true}}},
		{&b.st.number, excelize.Style{Border: border, Alignment: middle, NumFmt: 1}},
		{&b.st.date, excelize.Style{Border: border, Alignment: middle, CustomNumFmt: &dateFmt}},
		{&b.st.day, excelize.Style{Border: border, Alignment: middle, CustomNumFmt: &dayFmt}},
		{&b.st.percent, excelize.Style{Border: border, Alignment: middle, NumFmt: 10}}, // 0.00%
		{&b.st.score, excelize.Style{Border: border, Alignment: middle, NumFmt: 2}},    // 0.00
	}
	for _, s := range specs {
		id, err := b.f.NewStyle(&s.style)
		if err != nil {
			return fmt.Errorf("ledger: style: %w", err)
		}
		*s.dst = id
	}
	return nil
}

// word renders a template that takes a plain value; on a (golden-tested,
// so impossible) failure it shows the value itself.
func (b *book) word(name string, data any) string {
	s, err := b.t.Render(name, data)
	if err != nil {
		return fmt.Sprint(data)
	}
	return s
}

// value is a value code in words (report.value).
func (b *book) value(code string) string { return b.word(templates.ReportValue, code) }

// local is t in the report's zone, or nil (an empty cell) when zero.
func (b *book) local(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.In(b.zone)
}

// titleData is the title of the workbook's kind.
func (b *book) titleData(kind string, count int) templates.TitleData {
	p := b.period
	last := p.To.AddDate(0, 0, -1)
	d := templates.TitleData{Kind: kind, Subdistrict: b.e.Reporter.Roster.Subdistrict.Name,
		Year: p.From.Year(), Month: int(p.From.Month()),
		FromMonth: int(p.From.Month()), FromDay: p.From.Day(), ToMonth: int(last.Month()), ToDay: last.Day(),
		Count: count, Partial: b.now.Before(p.To)}
	if p.Kind == bot.PeriodWeek {
		d.Year, d.Week = p.From.ISOWeek()
	}
	gen := b.now.In(b.zone)
	d.GenYear, d.GenMonth, d.GenDay, d.GenTime = gen.Year(), int(gen.Month()), gen.Day(), gen.Format("15:04")
	return d
}

// sheet is one worksheet being streamed.
type sheet struct {
	b    *book
	sw   *excelize.StreamWriter
	name string
	cols int
	row  int // the last row written
}

// headerRows is how many rows sit above the data: title, subtitle, headers.
const headerRows = 3

// newSheet starts a sheet: its name and headers from templates (report.sheet
// and report.columns of id), the title and subtitle of kind, the column
// widths, the frozen header rows.
func (b *book) newSheet(id, kind string, count int, widths []float64) (*sheet, error) {
	name := b.word(templates.ReportSheet, id)
	if b.sheets == 0 {
		if err := b.f.SetSheetName(b.f.GetSheetName(0), name); err != nil {
			return nil, fmt.Errorf("ledger: sheet %s: %w", name, err)
		}
	} else if _, err := b.f.NewSheet(name); err != nil {
		return nil, fmt.Errorf("ledger: sheet %s: %w", name, err)
	}
	b.sheets++
	sw, err := b.f.NewStreamWriter(name)
	if err != nil {
		return nil, fmt.Errorf("ledger: sheet %s: %w", name, err)
	}
	headers := strings.Split(b.word(templates.ReportColumns, id), "\n")
	s := &sheet{b: b, sw: sw, name: name, cols: len(headers)}
	for i, w := range widths {
		if err := sw.SetColWidth(i+1, i+1, w); err != nil {
			return nil, err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: headerRows, TopLeftCell: "A4", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A4", ActiveCell: "A4", Pane: "bottomLeft"}}}); err != nil {
		return nil, err
	}
	td := b.titleData(kind, count)
	if err := s.line(b.word(templates.ReportTitle, td), b.st.title, 28); err != nil {
		return nil, err
	}
	if err := s.line(b.word(templates.ReportSubtitle, td), b.st.subtitle, 18); err != nil {
		return nil, err
	}
	cells := make([]any, len(headers))
	for i, h := range headers {
		cells[i] = excelize.Cell{StyleID: b.st.header, Value: h}
	}
	if err := s.put(cells, excelize.RowOpts{Height: 22}); err != nil {
		return nil, err
	}
	return s, nil
}

// line writes a text across the whole width (a merged row).
func (s *sheet) line(text string, style int, height float64) error {
	s.row++
	first, _ := excelize.CoordinatesToCellName(1, s.row)
	last, _ := excelize.CoordinatesToCellName(max(s.cols, 1), s.row)
	if err := s.sw.SetRow(first, []any{excelize.Cell{StyleID: style, Value: text}}, excelize.RowOpts{Height: height}); err != nil {
		return err
	}
	if s.cols > 1 {
		return s.sw.MergeCell(first, last)
	}
	return nil
}

// put writes the next row.
func (s *sheet) put(cells []any, opts ...excelize.RowOpts) error {
	s.row++
	cell, _ := excelize.CoordinatesToCellName(1, s.row)
	return s.sw.SetRow(cell, cells, opts...)
}

// close flushes the sheet.
func (s *sheet) close() error {
	if err := s.sw.Flush(); err != nil {
		return fmt.Errorf("ledger: sheet %s: %w", s.name, err)
	}
	return nil
}

// Cell constructors.
func (b *book) txt(v string) excelize.Cell  { return excelize.Cell{StyleID: b.st.text, Value: v} }
func (b *book) wrap(v string) excelize.Cell { return excelize.Cell{StyleID: b.st.wrap, Value: v} }
func (b *book) num(v int) excelize.Cell     { return excelize.Cell{StyleID: b.st.number, Value: v} }
func (b *book) date(t time.Time) excelize.Cell {
	return excelize.Cell{StyleID: b.st.date, Value: b.local(t)}
}
func (b *book) day(t time.Time) excelize.Cell {
	return excelize.Cell{StyleID: b.st.day, Value: b.local(t)}
}

// rate is a ratio as a percentage cell, or an empty cell when nothing was due.
func (b *book) rate(r bot.Ratio) excelize.Cell {
	v, ok := r.Rate()
	if !ok {
		return excelize.Cell{StyleID: b.st.percent}
	}
	return excelize.Cell{StyleID: b.st.percent, Value: v}
}

// indicator is an assessment indicator as a percentage cell.
func (b *book) indicator(in bot.Indicator) excelize.Cell {
	if !in.Valid {
		return excelize.Cell{StyleID: b.st.percent}
	}
	return excelize.Cell{StyleID: b.st.percent, Value: in.Rate}
}
