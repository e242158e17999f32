package handlers_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"gridbot/bot"
	"gridbot/handlers"
	"gridbot/store"
)

func apiServer(t *testing.T, token string, open bool) (*httptest.Server, *store.DB) {
	t.Helper()
	db, err := store.Open(context.Background(), store.Options{Driver: store.DriverSQLite, SQLitePath: filepath.Join(t.TempDir(), "a.db"), Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	srv := &handlers.Server{Ping: db.Ping, Clock: bot.ClockFunc(time.Now), Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Metrics: handlers.NewMetrics(db.Inbox(), db.Outbox()),
		API:     &handlers.API{Cases: db.Cases(), Token: token, Open: open, MediaDir: t.TempDir(), Zone: bot.Shanghai()}}
	ts := httptest.NewServer(srv.Routes())
	t.Cleanup(ts.Close)
	return ts, db
}

func seed(t *testing.T, db *store.DB) {
	t.Helper()
	zone := bot.Shanghai()
	err := db.Cases().InTx(context.Background(), func(tx bot.Tx) error {
		for i, k := range []bot.Case{
			{Status: bot.StReported, District: "dongcheng", Plan: "环境卫生", Code: "06042", Size: bot.Small, CreatedAt: time.Date(2026, 11, 30, 9, 0, 0, 0, zone)},
			{Status: bot.StGuidance, District: "dongcheng", Plan: "市容管理", Code: "09006", Size: bot.Small, Overdue: true, CreatedAt: time.Date(2026, 12, 1, 9, 0, 0, 0, zone),
				ResidentName: "王大爷", ResidentPhone: "13800138000", Source: bot.SrcResident},
			{Status: bot.StClosed, District: "xicheng", Plan: "环境卫生", Code: "06042", Size: bot.Big, CreatedAt: time.Date(2026, 12, 1, 10, 0, 0, 0, zone)},
		} {
			k.No = "DJ-2026120" + string(rune('1'+i)) + "-001"
			k.Source = bot.SrcPatrol
			if k.ResidentName != "" {
				k.Source = bot.SrcResident
			}
			if err := tx.CreateCase(context.Background(), &k); err != nil {
				return err
			}
			if err := tx.AddEvent(context.Background(), bot.Event{CaseID: k.ID, Actor: "zhuqiang", Action: bot.ActReport, To: k.Status}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func getJSON(t *testing.T, url, token string, out any) int {
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
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// The cases API wants its bearer token, filters and pages, shows a case
// with its events, and masks residents' phones.
func TestCasesAPI(t *testing.T) {
	ts, db := apiServer(t, "s3cret", false)
	seed(t, db)
	if code := getJSON(t, ts.URL+"/api/cases", "", nil); code != http.StatusUnauthorized {
		t.Fatalf("no token: %d", code)
	}
	if code := getJSON(t, ts.URL+"/api/cases", "wrong", nil); code != http.StatusUnauthorized {
		t.Fatalf("wrong token: %d", code)
	}
	type list struct {
		Cases []struct {
			No, Status, District string
			Overdue              bool
		}
		Total int
	}
	cases := []struct {
		query string
		total int
	}{
		{"", 3},
		{"?district=dongcheng", 2},
		{"?status=closed", 1},
		{"?category=环境卫生", 2},
		{"?category=09006", 1},
		{"?overdue=true", 1},
		{"?from=2026-12-01", 2},
		{"?to=2026-11-30", 1},
		{"?from=2026-12-01&to=2026-12-01&district=dongcheng", 1},
	}
	for _, c := range cases {
		var l list
		if code := getJSON(t, ts.URL+"/api/cases"+c.query, "s3cret", &l); code != 200 || l.Total != c.total || len(l.Cases) != c.total {
			t.Errorf("%s: %d, total %d, %d cases; want %d", c.query, code, l.Total, len(l.Cases), c.total)
		}
	}
	var page list
	getJSON(t, ts.URL+"/api/cases?per_page=2&page=2", "s3cret", &page)
	if page.Total != 3 || len(page.Cases) != 1 {
		t.Fatalf("page 2: %+v", page)
	}
	for _, bad := range []string{"?overdue=maybe", "?from=yesterday", "?page=0", "?per_page=501"} {
		if code := getJSON(t, ts.URL+"/api/cases"+bad, "s3cret", nil); code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", bad, code)
		}
	}
	var one struct {
		Case struct {
			No            string
			ResidentPhone string `json:"resident_phone"`
		}
		Events []struct{ Action, Actor string }
	}
	if code := getJSON(t, ts.URL+"/api/cases/DJ-20261202-001", "s3cret", &one); code != 200 {
		t.Fatalf("get by number: %d", code)
	}
	if one.Case.ResidentPhone != "138****8000" || len(one.Events) != 1 || one.Events[0].Action != "report" {
		t.Fatalf("case = %+v", one)
	}
	if code := getJSON(t, ts.URL+"/api/cases/999", "s3cret", nil); code != http.StatusNotFound {
		t.Fatalf("missing case: %d", code)
	}
	if code := getJSON(t, ts.URL+"/api/cases/1/photos/nothing.jpg", "s3cret", nil); code != http.StatusNotFound {
		t.Fatalf("missing photo: %d", code)
	}
}

// With no token the API is open only where the config says so (the
// embedded default on localhost); elsewhere it refuses.
func TestCasesAPIWithoutToken(t *testing.T) {
	open, _ := apiServer(t, "", true)
	if code := getJSON(t, open.URL+"/api/cases", "", nil); code != 200 {
		t.Fatalf("open API: %d", code)
	}
	closed, _ := apiServer(t, "", false)
	if code := getJSON(t, closed.URL+"/api/cases", "", nil); code != http.StatusForbidden {
		t.Fatalf("API with no token configured: %d", code)
	}
}
