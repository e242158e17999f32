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

	"gridbot/bot/roster"
	"gridbot/bot/roster/rosterxlsx"
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
