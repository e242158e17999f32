package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/xuri/excelize/v2"

	"gridbot/bot"
	"gridbot/bot/bottest"
	"gridbot/bot/ledger"
	"gridbot/bot/roster"
	"gridbot/store"
	"gridbot/templates"
)

// reportsServer serves the report routes, mounted as routes.go mounts them
// (inside the API group, behind its token), on a store with two November
// cases, on 1 December 2026.
func reportsServer(t *testing.T, token string) *httptest.Server {
	t.Helper()
	zone := bot.Shanghai()
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, zone)
	clock := bot.ClockFunc(func() time.Time { return now })
	db, err := store.Open(context.Background(), store.Options{Driver: store.DriverSQLite,
		SQLitePath: filepath.Join(t.TempDir(), "r.db"), Migrate: true, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	err = db.Cases().InTx(context.Background(), func(tx bot.Tx) error {
		for i, day := range []int{2, 3} {
			created := time.Date(2026, 11, day, 9, 0, 0, 0, zone)
			k := bot.Case{No: "DJ-2026110" + string(rune('2'+i)) + "-001", Status: bot.StClosed, Source: bot.SrcResident,
				ResidentName: "王大爷", ResidentPhone: "13800138000", District: "dongcheng", Grid: "dc01", Code: "06042",
				Category: "垃圾站（箱）满溢", Size: bot.Small, CreatedAt: created, DueAt: created.Add(15 * time.Hour),
				ClosedAt: created.Add(time.Hour), CloseCode: bot.CloseResolved}
			if err := tx.CreateCase(context.Background(), &k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rep := &bot.Reporter{Store: db.Reports(), Rhythm: &bottest.Rhythm{}, Outbox: db.Outbox(), Leases: db.Leases(),
		T: templates.MustLoad(), Roster: roster.Demo(), Clock: clock, Zone: zone, Owner: "test"}
	api := &API{Cases: db.Cases(), Token: token, Zone: zone}
	reports := &Reports{Exporter: &ledger.Exporter{Reporter: rep}, Assessor: rep, Clock: clock, Zone: zone}

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	g := r.Group("/api", api.auth)
	g.GET("/export/:file", reports.export)
	g.GET("/assessment", reports.assessment)
	ts := httptest.NewServer(r)
	t.Cleanup(ts.Close)
	return ts
}

func get(t *testing.T, url, token string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func TestExportEndpoint(t *testing.T) {
	ts := reportsServer(t, "s3cret")
	resp, body := get(t, ts.URL+"/api/export/ledger.xlsx?month=2026-11", "s3cret")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != ledger.ContentType ||
		resp.Header.Get("Content-Disposition") != `attachment; filename="ledger-2026-11.xlsx"` {
		t.Fatalf("%d %v: %.200s", resp.StatusCode, resp.Header, body)
	}
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, _ := f.GetRows("问题台账")
	if len(rows) != 5 || rows[0][0] != "董家街道城市管理问题台账（2026年11月）" || rows[3][9] != "王大爷 138****8000" {
		t.Errorf("rows %v", rows)
	}

	for _, c := range []struct {
		url, token string
		status     int
	}{
		{"/api/export/ledger.xlsx?month=2026-11", "", http.StatusUnauthorized},
		{"/api/export/ledger.xlsx?month=2026-11", "wrong", http.StatusUnauthorized},
		{"/api/export/ledger.xlsx", "s3cret", http.StatusBadRequest},
		{"/api/export/ledger.xlsx?month=11", "s3cret", http.StatusBadRequest},
		{"/api/export/cats.xlsx?month=2026-11", "s3cret", http.StatusBadRequest},
		{"/api/export/ledger.csv?month=2026-11", "s3cret", http.StatusNotFound},
		{"/api/export/weekly.xlsx?week=2026-W48", "s3cret", http.StatusOK},
		{"/api/export/weekly.xlsx?month=2026-11", "s3cret", http.StatusBadRequest},
		{"/api/export/patrols.xlsx?month=2026-11", "s3cret", http.StatusOK},
		{"/api/export/visits.xlsx?month=2026-11", "s3cret", http.StatusOK},
		{"/api/export/assessment.xlsx?month=2026-11", "s3cret", http.StatusOK},
		{"/api/export/monthly.xlsx?month=2026-11", "s3cret", http.StatusOK},
	} {
		if resp, body := get(t, ts.URL+c.url, c.token); resp.StatusCode != c.status {
			t.Errorf("GET %s: %d, want %d: %.200s", c.url, resp.StatusCode, c.status, body)
		}
	}
}

func TestAssessmentEndpoint(t *testing.T) {
	ts := reportsServer(t, "s3cret")
	resp, body := get(t, ts.URL+"/api/assessment?month=2026-11", "s3cret")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d: %s", resp.StatusCode, body)
	}
	var a struct {
		Month   string `json:"month"`
		Partial bool   `json:"partial"`
		Policy  struct {
			MinCases int                `json:"min_cases"`
			Weights  map[string]float64 `json:"weights"`
		} `json:"policy"`
		Rows []struct {
			Rank       int     `json:"rank"`
			District   string  `json:"district"`
			Name       string  `json:"name"`
			Score      float64 `json:"score"`
			Grade      string  `json:"grade"`
			Small      bool    `json:"small_sample"`
			Figures    map[string]int
			Indicators map[string]struct {
				Num, Den int
				Rate     *float64
			}
		} `json:"rows"`
		Total struct {
			Name string `json:"name"`
		} `json:"total"`
	}
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatal(err)
	}
	if a.Month != "2026-11" || a.Partial || a.Policy.MinCases != 5 || a.Policy.Weights["on_time"] != 30 || len(a.Rows) != 5 {
		t.Fatalf("assessment %s", body)
	}
	dc := a.Rows[0]
	if dc.District != "dongcheng" || dc.Rank != 1 || !dc.Small || dc.Figures["closed"] != 2 || dc.Figures["due"] != 2 ||
		dc.Indicators["closure"].Num != 2 || dc.Indicators["patrol"].Rate == nil || *dc.Indicators["patrol"].Rate != 0 ||
		dc.Indicators["visits"].Den != 32 {
		t.Errorf("东城 %+v", dc)
	}
	if a.Total.Name != "董家街道" {
		t.Errorf("total %+v", a.Total)
	}
	for _, url := range []string{"/api/assessment", "/api/assessment?month=2026-13"} {
		if resp, _ := get(t, ts.URL+url, "s3cret"); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("GET %s: %d, want 400", url, resp.StatusCode)
		}
	}
	if resp, _ := get(t, ts.URL+"/api/assessment?month=2026-11", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: %d", resp.StatusCode)
	}
}
