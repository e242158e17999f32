package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gridbot/bot"
	"gridbot/bot/roster"
	"gridbot/bot/roster/rosterxlsx"
	"gridbot/bot/wecom/wecomfake"
)

// `gridbot import roster` checks a YAML or xlsx roster, names the line or
// row of every problem, and installs a good one where serve finds it.
func TestImportRoster(t *testing.T) {
	dir := t.TempDir()
	getenv := env(map[string]string{})
	cfgPath := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfgPath, []byte("data_dir: "+filepath.Join(dir, "data")+"\n"), 0o600)

	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, roster.DemoYAML(), 0o600)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"import", "roster", "-config", cfgPath, good}, getenv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "5 districts") || !strings.Contains(out.String(), "installed as") {
		t.Fatalf("output: %s", out.String())
	}
	installed := filepath.Join(dir, "data", "roster.yaml")
	if b, err := os.ReadFile(installed); err != nil || !bytes.Equal(b, roster.DemoYAML()) {
		t.Fatalf("not installed: %v", err)
	}
	cfg, _ := LoadConfig(cfgPath, getenv)
	if _, from, err := loadRoster(cfg); err != nil || from != installed {
		t.Fatalf("serve would load %q (%v), want %s", from, err, installed)
	}

	// A broken YAML: the error names the line; nothing changes.
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, bytes.Replace(roster.DemoYAML(), []byte("roles: [chief], district: dongcheng"), []byte("roles: [boss], district: dongcheng"), 1), 0o600)
	err := run(context.Background(), []string{"import", "roster", "-config", cfgPath, bad}, getenv, io.Discard, io.Discard)
	if err == nil || !regexp.MustCompile(`line \d+`).MatchString(err.Error()) || !strings.Contains(err.Error(), "boss") {
		t.Fatalf("bad roster: %v", err)
	}

	// The xlsx template round trip: the demo exported and imported back.
	var x bytes.Buffer
	if err := rosterxlsx.Write(&x, roster.Demo()); err != nil {
		t.Fatal(err)
	}
	xl := filepath.Join(dir, "roster.xlsx")
	os.WriteFile(xl, x.Bytes(), 0o600)
	out.Reset()
	if err := run(context.Background(), []string{"import", "roster", "-check", xl}, getenv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "18 grids") {
		t.Fatalf("xlsx check: %s", out.String())
	}
}

// `gridbot classify` prints the top candidates, best first, one a line.
func TestClassifyCommand(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"classify", "-n", "3", "垃圾桶满了溢出来", "路灯不亮"}, env(nil), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`(?m)^\d{5} \S+ (市容管理|环境卫生|停车秩序|建设活动管理|市政公用设施|社区环境综合整治) \d+\.\d\d$`)
	if n := len(line.FindAllString(out.String(), -1)); n < 2 {
		t.Fatalf("output:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "垃圾桶满了溢出来\n") || !strings.Contains(out.String(), "环境卫生") || !strings.Contains(out.String(), "市政公用设施") {
		t.Fatalf("output:\n%s", out.String())
	}
}

// `gridbot import checkin` turns inspectors' 外出打卡 records into patrols:
// two or more records in the grid on a day make one counted patrol; a
// second import of the same days adds nothing.
func TestImportCheckin(t *testing.T) {
	app := startApp(t, backend{name: "sqlite", env: map[string]string{}}, appOpts{})
	g, _ := roster.Demo().Grid("dc01")
	far, _ := roster.Demo().Grid("ny04")
	day := time.Date(2026, 11, 10, 9, 0, 0, 0, bot.Shanghai())
	rec := func(user string, at time.Time, lat, lng float64) wecomfake.Checkin {
		return wecomfake.Checkin{UserID: user, CheckinType: "外出打卡", CheckinTime: at.Unix(), Lat: int64(lat * 1e6), Lng: int64(lng * 1e6)}
	}
	app.fake.AddCheckin(
		rec("zhuqiang", day, g.Center.Lat(), g.Center.Lon()),
		rec("zhuqiang", day.Add(2*time.Hour), g.Center.Lat()+0.001, g.Center.Lon()),
		rec("zhuqiang", day.Add(24*time.Hour), g.Center.Lat(), g.Center.Lon()), // one record: no patrol
		rec("huyumei", day, far.Center.Lat(), far.Center.Lon()),                // outside her grid
		rec("huyumei", day.Add(time.Hour), far.Center.Lat(), far.Center.Lon()),
	)
	cfg := app.configPath
	for i, want := range []string{"imported 1 patrol", "imported 0 patrol"} {
		var out bytes.Buffer
		err := run(context.Background(), []string{"import", "checkin", "-config", cfg, "-from", "2026-11-01", "-to", "2026-11-30"}, app.getenv, &out, io.Discard)
		if err != nil || !strings.Contains(out.String(), want) {
			t.Fatalf("import %d: %q (%v)", i+1, out.String(), err)
		}
	}
	ps, err := app.db.Rhythm().Patrols(context.Background(), day.Add(-24*time.Hour), day.Add(72*time.Hour))
	if err != nil || len(ps) != 1 {
		t.Fatalf("patrols %+v (%v)", ps, err)
	}
	if p := ps[0]; p.UserID != "zhuqiang" || !p.Counts || p.Source != "checkin" || p.Day != "2026-11-10" || !p.EndedAt.Equal(day.Add(2*time.Hour)) {
		t.Fatalf("patrol %+v", p)
	}
}
