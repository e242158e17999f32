package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// A bad config is refused with every problem at once, in plain words, and
// no secret in the message.
func TestConfigReportsEveryProblem(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(path, []byte(`listen: nowhere
debug_listen: 0.0.0.0:6060
wecom:
  corp_id: ""
  agent_id: 0
  secret: supersecretvalue
  token: "this token is far too long and has spaces"
  aes_key: abcdefghijkl
log:
  level: loud
`), 0o600)
	err := run(context.Background(), []string{"serve", "-config", path}, env(nil), io.Discard, io.Discard)
	if err == nil {
		t.Fatal("a bad config started")
	}
	msg := err.Error()
	for _, want := range []string{
		`listen must be host:port, got "nowhere"`,
		`debug_listen must be a loopback host:port (127.0.0.1:6060), got "0.0.0.0:6060"`,
		"wecom.corp_id is empty",
		"wecom.agent_id must be a positive number, got 0",
		"wecom.token must be 1 to 32 letters or digits",
		"wecom.aes_key must be 43 characters, got 12",
		`log.level must be debug, info, warn or error, got "loud"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "supersecretvalue") {
		t.Error("the error shows the secret")
	}
}

// Unknown keys are typos, not silence.
func TestConfigRejectsUnknownKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "typo.yaml")
	os.WriteFile(path, []byte("wecom:\n  corpid: x\n"), 0o600)
	if _, err := LoadConfig(path, env(nil)); err == nil || !strings.Contains(err.Error(), "corpid") {
		t.Fatalf("unknown key accepted: %v", err)
	}
}

// Secrets print as *** everywhere; *_FILE and GRIDBOT_* override the file.
func TestSecretsAndOverrides(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	os.WriteFile(secretFile, []byte("from-a-file\n"), 0o600)
	cfg, err := LoadConfig("", env(map[string]string{
		"GRIDBOT_WECOM_SECRET_FILE": secretFile,
		"GRIDBOT_WECOM_AES_KEY":     strings.Repeat("K", 43),
		"GRIDBOT_LISTEN":            "127.0.0.1:9999",
		"GRIDBOT_WECOM_AGENT_ID":    "42",
		"GRIDBOT_MYSQL_DSN":         "u:pw@tcp(db:3306)/g",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.WeCom.Secret.Value() != "from-a-file" || cfg.WeCom.AESKey.Value() != strings.Repeat("K", 43) ||
		cfg.Listen != "127.0.0.1:9999" || cfg.WeCom.AgentID != 42 || cfg.Store.MySQLDSN.Value() != "u:pw@tcp(db:3306)/g" {
		t.Fatalf("overrides not applied: %+v", cfg)
	}
	y, _ := yaml.Marshal(cfg)
	j, _ := json.Marshal(cfg)
	for _, out := range []string{fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), string(y), string(j)} {
		for _, secret := range []string{"from-a-file", strings.Repeat("K", 43), "u:pw@tcp"} {
			if strings.Contains(out, secret) {
				t.Fatalf("a secret printed: %s", out)
			}
		}
	}
	if !strings.Contains(string(y), "'***'") && !strings.Contains(string(y), `"***"`) {
		t.Fatalf("secrets do not print as ***: %s", y)
	}
	_, err = LoadConfig("", env(map[string]string{"GRIDBOT_WECOM_TOKEN_FILE": filepath.Join(dir, "missing")}))
	if err == nil || !strings.Contains(err.Error(), "GRIDBOT_WECOM_TOKEN_FILE") {
		t.Fatalf("a missing secret file was not reported: %v", err)
	}
}

// The embedded default validates, and a config file documents every key:
// config.example.yaml loads with no unknown key.
func TestDefaultsAndExample(t *testing.T) {
	def := DefaultConfig()
	if err := def.Validate(); err != nil {
		t.Fatalf("the embedded default is invalid: %v", err)
	}
	if !def.WeCom.Simulate || def.Listen != "127.0.0.1:8080" || def.Store.SQLitePath != "./data/gridbot.db" {
		t.Fatalf("embedded default = %+v", def)
	}
	cfg, err := LoadConfig("../../config.example.yaml", env(nil))
	if err != nil {
		t.Fatalf("config.example.yaml: %v", err)
	}
	if cfg.WeCom.TimestampWindow.Seconds() != 300 || cfg.Workers.OutboxAttempts != 0 {
		t.Fatalf("example values not read: %+v", cfg.WeCom)
	}
	// With its empty secrets it must be refused, naming them.
	err = cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "wecom.secret is empty") {
		t.Fatalf("example with empty secrets validated: %v", err)
	}
}
