package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"gridbot/bot"
	"gridbot/store"
)

// reportDB makes a SQLite store with last month's cases for 东城: five
// closed on time and one open past its deadline. It returns the month and
// the environment that points gridbot at the store.
func reportDB(t *testing.T) (string, func(string) string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gridbot.db")
	db, err := store.Open(context.Background(), store.Options{Driver: store.DriverSQLite, SQLitePath: path, Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	month := lastMonth(time.Now())
	p, err := bot.ParseMonth(month, bot.Shanghai())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		created := p.From.AddDate(0, 0, 2+i).Add(9 * time.Hour)
		c := bot.Case{No: "DJ-" + created.Format("20060102") + "-001", Status: bot.StClosed, Source: bot.SrcResident,
			Reporter: "yangfan", ResidentName: "王大爷", ResidentPhone: "13800138000", Code: "06042", Category: "垃圾站（箱）满溢",
			Plan: "环境卫生", Dept: "环卫", Size: bot.Small, District: "dongcheng", Community: "dongsheng", Grid: "dc01",
			Place: "东盛路", Text: "垃圾桶满了", CreatedAt: created, DueAt: created.Add(15 * time.Hour),
			ClosedAt: created.Add(8 * time.Hour), CloseCode: bot.CloseResolved}
		if i == 5 {
			c.Status, c.ClosedAt, c.CloseCode, c.Overdue = bot.StGuidance, time.Time{}, "", true
		}
		err := db.Cases().InTx(context.Background(), func(tx bot.Tx) error {
			if err := tx.CreateCase(context.Background(), &c); err != nil {
				return err
			}
			return tx.AddEvent(context.Background(), bot.Event{CaseID: c.ID, At: created, Actor: "yangfan", Action: bot.ActReport})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{"GRIDBOT_SQLITE_PATH": path}
	return month, func(k string) string { return env[k] }
}

func TestAssessCommand(t *testing.T) {
	month, getenv := reportDB(t)
	out := filepath.Join(t.TempDir(), "assessment.xlsx")
	var stdout, stderr bytes.Buffer
	if err := assessCmd(context.Background(), []string{"--month", month, "-o", out}, getenv, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	text := stdout.String()
	p, _ := bot.ParseMonth(month, bot.Shanghai())
	title := "董家街道“城市管理进社区”月度考核（" + p.From.Format("2006") + "年" + strings.TrimPrefix(p.From.Format("01"), "0") + "月）"
	for _, want := range []string{title, "排名", "结案率", "东城管区", "全街道", "样本不足", "83.3%", "wrote " + out} {
		if !strings.Contains(text, want) {
			t.Errorf("the output lacks %q:\n%s", want, text)
		}
	}
	// 东城 has 6 cases due (5 closed on time): it ranks first, the others are small samples.
	lines := strings.Split(text, "\n")
	var first string
	for i, l := range lines {
		if strings.HasPrefix(l, "排名") {
			first = lines[i+2]
		}
	}
	if !strings.HasPrefix(first, "1 ") || !strings.Contains(first, "东城管区") || strings.Contains(first, "样本不足") {
		t.Errorf("first row %q", first)
	}
	// Columns line up (the header and a row have the same display width up to 得分).
	f, err := excelize.OpenFile(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if v, _ := f.GetCellValue("考核结果", "B4"); v != "东城管区" {
		t.Errorf("the xlsx's first district is %q", v)
	}
	if _, err := os.Stat(out + ".tmp"); !os.IsNotExist(err) {
		t.Errorf("the temporary file is left: %v", err)
	}
}

func TestExportCommand(t *testing.T) {
	month, getenv := reportDB(t)
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	out := filepath.Join(dir, "ledger.xlsx")
	if err := exportCmd(context.Background(), []string{"ledger", "-month", month, "-o", out}, getenv, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "ledger.xlsx [##############################] 100%  6/6") {
		t.Errorf("no progress bar on stderr: %q", stderr.String())
	}
	f, err := excelize.OpenFile(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, _ := f.GetRows("问题台账")
	if len(rows) != 3+6 || rows[3][9] != "王大爷 138****8000" {
		t.Errorf("%d rows; first %v", len(rows), rows[min(3, len(rows)-1)])
	}

	for _, kind := range []string{"patrols", "visits", "assessment", "monthly"} {
		if err := exportCmd(context.Background(), []string{kind, "-q", "-month", month, "-o", filepath.Join(dir, kind+".xlsx")}, getenv, &stdout, &stderr); err != nil {
			t.Errorf("export %s: %v", kind, err)
		}
	}
	week := bot.WeekPeriod(time.Now().AddDate(0, 0, -7), bot.Shanghai()).Label
	if err := exportCmd(context.Background(), []string{"weekly", "-week", week, "-o", filepath.Join(dir, "weekly.xlsx")}, getenv, &stdout, &stderr); err != nil {
		t.Errorf("export weekly: %v", err)
	}

	for _, args := range [][]string{
		{}, {"ledger", "-month", month}, {"cats", "-month", month, "-o", out}, {"ledger", "-month", "November", "-o", out},
		{"ledger", "-month", month, "-o", filepath.Join(dir, "x.csv")}, {"weekly", "-month", month, "-o", out},
	} {
		if err := exportCmd(context.Background(), args, getenv, &stdout, &stderr); err == nil {
			t.Errorf("export %q succeeded", args)
		}
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 83000: "83,000", 1234567: "1,234,567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %s, want %s", n, got, want)
		}
	}
}

func TestReportSettings(t *testing.T) {
	r, a, err := reportSettings(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if at, _ := r.At(); at != 8*time.Hour+30*time.Minute || a.Policy() != bot.DefaultAssessPolicy() {
		t.Errorf("defaults: %v, %+v", at, a.Policy())
	}
	bad := AssessmentConfig{MinCases: -1}
	bad.Weights.Patrol = -2
	if got := len(bad.Validate()); got != 3 {
		t.Errorf("%d problems with negative weights and sample, want 3: %v", got, bad.Validate())
	}
	if problems := (ReportsConfig{DigestAt: "8:3x", CheckEvery: time.Minute}).Validate(); len(problems) != 1 {
		t.Errorf("a bad digest time: %v", problems)
	}
}
