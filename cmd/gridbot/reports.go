package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/text/width"

	"gridbot/bot"
	"gridbot/bot/ledger"
	"gridbot/bot/roster"
	"gridbot/store"
	"gridbot/templates"
)

// ReportsConfig is the reports: section of the config: when the daily
// digest goes out (the weekly pack on Mondays and the monthly pack on the
// 1st go with it), or that none does.
type ReportsConfig struct {
	DigestAt   string        `yaml:"digest_at"`   // local time, "08:30"
	CheckEvery time.Duration `yaml:"check_every"` // how often the leading instance checks (1m)
	Disabled   bool          `yaml:"disabled"`    // send no digests or packs (exports and the API still work)
	StaleDays  int           `yaml:"stale_days"`  // flag a grid unpatrolled this many days in a row (3)
}

// AssessmentConfig is the assessment: section of the config: the weights of
// the monthly assessment's indicators and its minimum sample.
type AssessmentConfig struct {
	MinCases int `yaml:"min_cases"` // fewer cases due: the case indicators count at the average (样本不足)
	Weights  struct {
		Closure    float64 `yaml:"closure"`    // 结案率
		OnTime     float64 `yaml:"on_time"`    // 按期结案率
		Rework     float64 `yaml:"rework"`     // 返工率 (scored 1 − rate)
		Patrol     float64 `yaml:"patrol"`     // 巡查覆盖率
		Visits     float64 `yaml:"visits"`     // 走访完成率
		Activities float64 `yaml:"activities"` // 活动开展率
	} `yaml:"weights"`
}

// setDefaults fills what the file left empty: 08:30, checked every minute.
func (c *ReportsConfig) setDefaults() {
	if c.DigestAt == "" {
		c.DigestAt = "08:30"
	}
	if c.CheckEvery == 0 {
		c.CheckEvery = time.Minute
	}
}

// At is the digest's time of day after local midnight.
func (c ReportsConfig) At() (time.Duration, error) {
	t, err := time.Parse("15:04", c.DigestAt)
	if err != nil {
		return 0, fmt.Errorf("reports.digest_at must be a time like 08:30, got %q", c.DigestAt)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// Validate lists what is wrong with the section.
func (c ReportsConfig) Validate() []string {
	var problems []string
	if _, err := c.At(); err != nil {
		problems = append(problems, err.Error())
	}
	if c.CheckEvery < time.Second {
		problems = append(problems, "reports.check_every must be at least 1s")
	}
	return problems
}

// setDefaults fills the weights when none is set (bot.DefaultAssessPolicy)
// and the minimum sample when it is 0.
func (c *AssessmentConfig) setDefaults() {
	def := bot.DefaultAssessPolicy()
	w := &c.Weights
	if w.Closure == 0 && w.OnTime == 0 && w.Rework == 0 && w.Patrol == 0 && w.Visits == 0 && w.Activities == 0 {
		dw := def.Weights
		w.Closure, w.OnTime, w.Rework, w.Patrol, w.Visits, w.Activities = dw.Closure, dw.OnTime, dw.Rework, dw.Patrol, dw.Visits, dw.Activities
	}
	if c.MinCases == 0 {
		c.MinCases = def.MinCases
	}
}

// Validate lists what is wrong with the section.
func (c AssessmentConfig) Validate() []string {
	var problems []string
	w := c.Weights
	for _, x := range []struct {
		name string
		v    float64
	}{{"closure", w.Closure}, {"on_time", w.OnTime}, {"rework", w.Rework}, {"patrol", w.Patrol}, {"visits", w.Visits}, {"activities", w.Activities}} {
		if x.v < 0 {
			problems = append(problems, fmt.Sprintf("assessment.weights.%s must not be negative, got %v", x.name, x.v))
		}
	}
	if w.Closure+w.OnTime+w.Rework+w.Patrol+w.Visits+w.Activities <= 0 {
		problems = append(problems, "assessment.weights must weigh at least one indicator")
	}
	if c.MinCases < 0 {
		problems = append(problems, "assessment.min_cases must not be negative")
	}
	return problems
}

// Policy is the assessment's scoring.
func (c AssessmentConfig) Policy() bot.AssessPolicy {
	w := c.Weights
	return bot.AssessPolicy{MinCases: c.MinCases, Weights: bot.AssessWeights{Closure: w.Closure, OnTime: w.OnTime,
		Rework: w.Rework, Patrol: w.Patrol, Visits: w.Visits, Activities: w.Activities}}
}

// reportSettings returns cfg's reports: and assessment: sections, with
// defaults and validated. (Until Config carries the two sections, the
// defaults; once merged this reads cfg.Reports and cfg.Assessment.)
func reportSettings(cfg Config) (ReportsConfig, AssessmentConfig, error) {
	r, a := cfg.Reports, cfg.Assessment
	r.setDefaults()
	a.setDefaults()
	if problems := append(r.Validate(), a.Validate()...); len(problems) > 0 {
		return r, a, errors.New(strings.Join(problems, "; "))
	}
	return r, a, nil
}

// newReporter is the reporter of the digests, packs and assessment on db,
// sending through its outbox, leading through its leases.
func newReporter(cfg Config, db *store.DB, r *roster.Roster, tpl *templates.Set, clock bot.Clock, owner string,
	log *slog.Logger, onCommit func()) (*bot.Reporter, error) {
	rc, ac, err := reportSettings(cfg)
	if err != nil {
		return nil, err
	}
	at, _ := rc.At()
	robots := map[string]bool{}
	for name := range cfg.WeCom.Robots {
		robots[name] = true
	}
	return &bot.Reporter{
		Store: db.Reports(), Rhythm: db.Rhythm(), Outbox: db.Outbox(), Leases: db.Leases(), T: tpl, Roster: r,
		Clock: clock, Zone: bot.Shanghai(), Owner: owner, At: at, Every: rc.CheckEvery, Policy: ac.Policy(), Robots: robots,
		StaleDays: rc.StaleDays, OnCommit: onCommit,
		OnError: func(err error) {
			log.Warn("sending the digests failed", "err", err)
		},
	}, nil
}

// reportTool is what assess and export need: the config, the store, the
// roster and templates, and a reporter on them.
type reportTool struct {
	db  *store.DB
	rep *bot.Reporter
}

func openReportTool(ctx context.Context, cfgPath string, getenv func(string) string, stderr io.Writer) (*reportTool, error) {
	cfg, err := LoadConfig(cfgPath, getenv)
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tpl, err := templates.Load()
	if err != nil {
		return nil, err
	}
	r, _, err := loadRoster(cfg)
	if err != nil {
		return nil, err
	}
	db, err := openStore(ctx, cfg, cfg.Store.AutoMigrate, nil)
	if err != nil {
		return nil, err
	}
	rep, err := newReporter(cfg, db, r, tpl, bot.ClockFunc(time.Now), "cli", newLogger(cfg, stderr), nil)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &reportTool{db: db, rep: rep}, nil
}

// lastMonth is the month before now's, the one usually assessed.
func lastMonth(now time.Time) string {
	l := now.In(bot.Shanghai())
	return time.Date(l.Year(), l.Month()-1, 1, 0, 0, 0, 0, l.Location()).Format("2006-01")
}

// assessCmd prints the monthly assessment as a table and writes it as an
// xlsx (assessment-2026-11.xlsx in the current directory unless -o names
// the file): gridbot assess [-month 2026-11] [-o FILE.xlsx] [-config FILE].
func assessCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("assess", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "config file (YAML); none: the embedded default")
	month := fs.String("month", lastMonth(time.Now()), "the month, like 2026-11 (default: last month)")
	out := fs.String("o", "", "the .xlsx file to write (default assessment-MONTH.xlsx)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errors.New("usage: gridbot assess [-month 2026-11] [-o FILE.xlsx] [-config FILE]")
	}
	p, err := bot.ParseMonth(*month, bot.Shanghai())
	if err != nil {
		return err
	}
	tool, err := openReportTool(ctx, *cfgPath, getenv, stderr)
	if err != nil {
		return err
	}
	defer tool.db.Close()
	now := tool.rep.Clock.Now()
	a, err := tool.rep.Assessment(ctx, p, now)
	if err != nil {
		return err
	}
	if err := printAssessment(stdout, tool.rep, a, now); err != nil {
		return err
	}
	if *out == "" {
		*out = ledger.FileName(ledger.KindAssessment, p)
	}
	return writeExport(ctx, tool.rep, ledger.KindAssessment, p, *out, stdout, stderr, false)
}

// exportCmd writes a ledger or report as an xlsx:
// gridbot export ledger|patrols|visits|assessment|weekly|monthly -month 2026-11 (-week 2026-W45) -o FILE.xlsx [-config FILE].
func exportCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	usage := "usage: gridbot export " + strings.Join(ledger.Kinds(), "|") + " -month 2026-11 (weekly: -week 2026-W45) -o FILE.xlsx [-config FILE]"
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return errors.New(usage)
	}
	kind := args[0]
	fs := flag.NewFlagSet("export "+kind, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "config file (YAML); none: the embedded default")
	month := fs.String("month", "", "the month, like 2026-11")
	week := fs.String("week", "", "the week of the weekly pack, like 2026-W45 (or a date of it)")
	out := fs.String("o", "", "the .xlsx file to write")
	quiet := fs.Bool("q", false, "no progress bar")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 {
		return errors.New(usage)
	}
	period := *month
	if kind == ledger.KindWeekly {
		period = *week
	}
	if period == "" {
		return errors.New(usage)
	}
	p, err := ledger.ParsePeriod(kind, period, bot.Shanghai())
	if err != nil {
		return err
	}
	tool, err := openReportTool(ctx, *cfgPath, getenv, stderr)
	if err != nil {
		return err
	}
	defer tool.db.Close()
	return writeExport(ctx, tool.rep, kind, p, *out, stdout, stderr, !*quiet)
}

// writeExport writes the workbook to path through a temporary file, with a
// progress bar on stderr when bar is set.
func writeExport(ctx context.Context, rep *bot.Reporter, kind string, p bot.Period, path string, stdout, stderr io.Writer, bar bool) error {
	if !strings.EqualFold(filepath.Ext(path), ".xlsx") {
		return fmt.Errorf("%s: the file must end in .xlsx", path)
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	var progress ledger.Progress
	pb := &progressBar{w: stderr, name: filepath.Base(path)}
	if bar {
		progress = pb.update
	}
	e := &ledger.Exporter{Reporter: rep}
	err = e.Export(ctx, kind, p, f, progress)
	if bar {
		pb.done()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", path)
	return nil
}

// progressBar draws "name [#####-----]  50%  1,234/2,468" on one line of a
// terminal, redrawn at most once a percent.
type progressBar struct {
	w     io.Writer
	name  string
	last  int // the last percentage drawn, -1 before the first
	drawn bool
}

const progressWidth = 30

func (b *progressBar) update(done, total int) {
	if total <= 0 {
		return
	}
	pct := min(done*100/total, 100)
	if b.drawn && pct == b.last && done != total {
		return
	}
	b.last, b.drawn = pct, true
	n := pct * progressWidth / 100
	fmt.Fprintf(b.w, "\r%s [%s%s] %3d%%  %s/%s", b.name, strings.Repeat("#", n), strings.Repeat("-", progressWidth-n),
		pct, thousands(done), thousands(total))
}

func (b *progressBar) done() {
	if b.drawn {
		fmt.Fprintln(b.w)
	}
}

// thousands writes n with thousands separators: 83,000.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// assessColumns are the columns of the assessment the table shows, by their
// index in the xlsx's (report.columns "assessment"): rank, district, cases
// due, the six indicators, score, grade, note.
var assessColumns = []int{0, 1, 3, 10, 11, 12, 13, 14, 15, 16, 17, 18}

// printAssessment writes the assessment as a table aligned for a terminal
// (Chinese characters are two columns wide).
func printAssessment(w io.Writer, rep *bot.Reporter, a bot.Assessment, now time.Time) error {
	t := rep.T
	word := func(name string, data any) (string, error) { return t.Render(name, data) }
	p := a.Period
	last := p.To.AddDate(0, 0, -1)
	gen := now.In(rep.Zone)
	td := templates.TitleData{Kind: "assessment", Subdistrict: rep.Roster.Subdistrict.Name, Year: p.From.Year(), Month: int(p.From.Month()),
		FromMonth: int(p.From.Month()), FromDay: p.From.Day(), ToMonth: int(last.Month()), ToDay: last.Day(),
		GenYear: gen.Year(), GenMonth: int(gen.Month()), GenDay: gen.Day(), GenTime: gen.Format("15:04"), Partial: a.Partial()}
	title, err := word(templates.ReportTitle, td)
	if err != nil {
		return err
	}
	sub, err := word(templates.ReportSubtitle, td)
	if err != nil {
		return err
	}
	cols, err := word(templates.ReportColumns, "assessment")
	if err != nil {
		return err
	}
	small, err := word(templates.ReportValue, "small_sample")
	if err != nil {
		return err
	}
	total, err := word(templates.ReportValue, "total")
	if err != nil {
		return err
	}
	all := strings.Split(cols, "\n")
	var header []string
	for _, i := range assessColumns {
		header = append(header, all[i])
	}
	rate := func(in bot.Indicator) string {
		if !in.Valid {
			return "—"
		}
		s := fmt.Sprintf("%.1f%%", in.Rate*100)
		if in.Average {
			s += "*"
		}
		return s
	}
	row := func(r bot.AssessRow, name string) []string {
		rank, note := "", ""
		if r.Rank > 0 {
			rank = fmt.Sprint(r.Rank)
		}
		if r.Small {
			note = small
		}
		return []string{rank, name, fmt.Sprint(r.Figures.Due()), rate(r.Closure), rate(r.OnTime), rate(r.Rework),
			rate(r.Patrol), rate(r.Visits), rate(r.Acts), fmt.Sprintf("%.1f", r.Score), r.Grade, note}
	}
	rows := [][]string{header}
	for _, r := range a.Rows {
		rows = append(rows, row(r, r.Name))
	}
	rows = append(rows, row(a.Total, total))

	widths := make([]int, len(header))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], displayWidth(c))
		}
	}
	fmt.Fprintln(w, title)
	fmt.Fprintln(w, sub)
	fmt.Fprintln(w)
	for ri, r := range rows {
		var b strings.Builder
		for i, c := range r {
			pad := strings.Repeat(" ", widths[i]-displayWidth(c))
			if i >= 2 && i < len(r)-2 && ri > 0 { // numbers align right
				b.WriteString(pad + c)
			} else {
				b.WriteString(c + pad)
			}
			if i < len(r)-1 {
				b.WriteString("  ")
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
		if ri == 0 || ri == len(rows)-2 {
			fmt.Fprintln(w, strings.Repeat("-", sum(widths)+2*(len(widths)-1)))
		}
	}
	for _, r := range a.Rows {
		if r.Small {
			note, err := word(templates.ReportValue, "average_note")
			if err != nil {
				return err
			}
			fmt.Fprintln(w, note)
			break
		}
	}
	return nil
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}

// displayWidth is how many terminal columns s takes: East Asian wide and
// fullwidth characters take two.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}
