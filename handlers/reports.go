package handlers

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"time"

	"gridbot/bot"
	"gridbot/bot/ledger"

	"github.com/gin-gonic/gin"
)

// Exporter writes a ledger or report workbook (ledger.Exporter).
type Exporter interface {
	Export(ctx context.Context, kind string, p bot.Period, w io.Writer, progress ledger.Progress) error
}

// Assessor computes the monthly assessment (bot.Reporter).
type Assessor interface {
	Assessment(ctx context.Context, month bot.Period, now time.Time) (bot.Assessment, error)
}

// Reports serves the ledgers as xlsx and the assessment as JSON, behind
// the API's bearer token.
type Reports struct {
	Exporter Exporter
	Assessor Assessor
	Clock    bot.Clock
	Zone     *time.Location
}

// export answers GET /api/export/{ledger|patrols|visits|assessment|monthly}.xlsx?month=2026-11
// and GET /api/export/weekly.xlsx?week=2026-W45 with the workbook.
func (r *Reports) export(c *gin.Context) {
	kind, ok := strings.CutSuffix(c.Param("file"), ".xlsx")
	if !ok {
		writeError(c, bot.Errorf(bot.ENOTFOUND, "exports are .xlsx files: /api/export/ledger.xlsx?month=2026-11"))
		return
	}
	param := "month"
	if kind == ledger.KindWeekly {
		param = "week"
	}
	p, err := ledger.ParsePeriod(kind, c.Query(param), r.Zone)
	if err != nil {
		writeError(c, err)
		return
	}
	var buf bytes.Buffer
	if err := r.Exporter.Export(c.Request.Context(), kind, p, &buf, nil); err != nil {
		writeError(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="`+ledger.FileName(kind, p)+`"`)
	c.Data(http.StatusOK, ledger.ContentType, buf.Bytes())
}

// assessment answers GET /api/assessment?month=2026-11 with the month's
// assessment, ranked.
func (r *Reports) assessment(c *gin.Context) {
	p, err := bot.ParseMonth(c.Query("month"), r.Zone)
	if err != nil {
		writeError(c, err)
		return
	}
	a, err := r.Assessor.Assessment(c.Request.Context(), p, r.Clock.Now())
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, assessmentOut(a, r.Zone))
}

// assessmentJSON is the assessment as the API shows it.
type assessmentJSON struct {
	Month   string          `json:"month"`
	From    time.Time       `json:"from"`
	To      time.Time       `json:"to"`
	AsOf    time.Time       `json:"as_of"`
	Partial bool            `json:"partial"` // the month had not ended
	Policy  assessPolicy    `json:"policy"`
	Rows    []assessRowJSON `json:"rows"` // ranked, best first
	Total   assessRowJSON   `json:"total"`
}

type assessPolicy struct {
	MinCases int                `json:"min_cases"`
	Weights  map[string]float64 `json:"weights"`
}

type assessRowJSON struct {
	Rank       int                      `json:"rank,omitempty"`
	District   string                   `json:"district,omitempty"`
	Name       string                   `json:"name"`
	Score      float64                  `json:"score"`
	Grade      string                   `json:"grade"`
	Small      bool                     `json:"small_sample"`
	Figures    figuresJSON              `json:"figures"`
	Indicators map[string]indicatorJSON `json:"indicators"`
}

type figuresJSON struct {
	Filed         int `json:"filed"`
	OnSpot        int `json:"on_spot"`
	Due           int `json:"due"`
	Closed        int `json:"closed"`
	Unsolvable    int `json:"unsolvable"`
	OnTime        int `json:"on_time"`
	Late          int `json:"late"`
	OpenDue       int `json:"open_due"`
	Handled       int `json:"handled"`
	Reworked      int `json:"reworked"`
	Escalated     int `json:"escalated"`
	OverdueEvents int `json:"overdue_events"`
}

type indicatorJSON struct {
	Num     int      `json:"num"`
	Den     int      `json:"den"`
	Rate    *float64 `json:"rate"` // null when it could not be computed
	Score   float64  `json:"score"`
	Average bool     `json:"average,omitempty"` // the subdistrict's average stands in
}

func assessmentOut(a bot.Assessment, zone *time.Location) assessmentJSON {
	w := a.Policy.Weights
	out := assessmentJSON{Month: a.Period.Label, From: a.Period.From.In(zone), To: a.Period.To.In(zone), AsOf: a.AsOf.In(zone),
		Partial: a.Partial(), Rows: make([]assessRowJSON, 0, len(a.Rows)), Total: assessRowOut(a.Total),
		Policy: assessPolicy{MinCases: a.Policy.MinCases, Weights: map[string]float64{"closure": w.Closure, "on_time": w.OnTime,
			"rework": w.Rework, "patrol": w.Patrol, "visits": w.Visits, "activities": w.Activities}}}
	for _, r := range a.Rows {
		out.Rows = append(out.Rows, assessRowOut(r))
	}
	return out
}

func assessRowOut(r bot.AssessRow) assessRowJSON {
	f := r.Figures
	ind := func(in bot.Indicator) indicatorJSON {
		j := indicatorJSON{Num: in.Num, Den: in.Den, Score: in.Score, Average: in.Average}
		if in.Valid {
			rate := in.Rate
			j.Rate = &rate
		}
		return j
	}
	return assessRowJSON{Rank: r.Rank, District: r.District, Name: r.Name, Score: r.Score, Grade: r.Grade, Small: r.Small,
		Figures: figuresJSON{Filed: f.Filed, OnSpot: f.OnSpot, Due: f.Due(), Closed: f.Closed, Unsolvable: f.Unsolvable,
			OnTime: f.OnTime, Late: f.Late(), OpenDue: f.OpenDue, Handled: f.Handled, Reworked: f.Reworked,
			Escalated: f.Escalated, OverdueEvents: f.OverdueEvents},
		Indicators: map[string]indicatorJSON{"closure": ind(r.Closure), "on_time": ind(r.OnTime), "rework": ind(r.Rework),
			"patrol": ind(r.Patrol), "visits": ind(r.Visits), "activities": ind(r.Acts)},
	}
}
