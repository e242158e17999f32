package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Secret is a setting that never prints: "***" in logs, YAML and JSON.
type Secret string

// String hides the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "***"
}

// GoString hides the value from %#v.
func (s Secret) GoString() string { return s.String() }

// MarshalYAML hides the value.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// MarshalJSON hides the value.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(s.String())), nil }

// Value is the secret itself, for the one place that needs it.
func (s Secret) Value() string { return string(s) }

// Config is every setting of gridbot. config.example.yaml documents each key.
type Config struct {
	Listen      string `yaml:"listen"`
	DebugListen string `yaml:"debug_listen"` // loopback host:port for /debug/pprof; empty: off
	DataDir     string `yaml:"data_dir"`
	Store       struct {
		MySQLDSN     Secret `yaml:"mysql_dsn"`
		MySQLDSNFile string `yaml:"mysql_dsn_file"`
		SQLitePath   string `yaml:"sqlite_path"`
		AutoMigrate  bool   `yaml:"auto_migrate"`
	} `yaml:"store"`
	Redis struct {
		Addr         string `yaml:"addr"` // host:port; several, comma-separated, for Cluster
		Password     Secret `yaml:"password"`
		PasswordFile string `yaml:"password_file"`
		DB           int    `yaml:"db"`
		MasterName   string `yaml:"master_name"` // Sentinel
		KeyPrefix    string `yaml:"key_prefix"`  // every key starts with it (default "gridbot:")
	} `yaml:"redis"`
	WeCom struct {
		CorpID          string            `yaml:"corp_id"`
		AgentID         int               `yaml:"agent_id"`
		Secret          Secret            `yaml:"secret"`
		SecretFile      string            `yaml:"secret_file"`
		Token           Secret            `yaml:"token"`
		TokenFile       string            `yaml:"token_file"`
		AESKey          Secret            `yaml:"aes_key"`
		AESKeyFile      string            `yaml:"aes_key_file"`
		APIBase         string            `yaml:"api_base"`
		Simulate        bool              `yaml:"simulate"`
		TimestampWindow time.Duration     `yaml:"timestamp_window"`
		HTTPTimeout     time.Duration     `yaml:"http_timeout"`
		AppRate         float64           `yaml:"app_rate"` // calls per second from this instance
		Robots          map[string]Secret `yaml:"robots"`   // robot name → webhook key
		RobotsFile      string            `yaml:"robots_file"`
	} `yaml:"wecom"`
	Media struct {
		Dir      string `yaml:"dir"`
		MaxBytes int64  `yaml:"max_bytes"`
	} `yaml:"media"`
	API struct {
		Token     Secret `yaml:"token"`
		TokenFile string `yaml:"token_file"`
	} `yaml:"api"`
	Roster struct {
		File string `yaml:"file"` // YAML or xlsx; empty: data_dir/roster.yaml, else the built-in demo
	} `yaml:"roster"`
	Cases struct {
		SmallHour   int           `yaml:"small_hour"`   // a small case is due the same day at this hour (24 = midnight)
		BigDays     int           `yaml:"big_days"`     // a big case is due this many days after filing
		RemindShare float64       `yaml:"remind_share"` // remind when this share of the time is gone
		DraftWindow time.Duration `yaml:"draft_window"` // photos, location and text within this window make one report
		DupMeters   float64       `yaml:"dup_meters"`   // open cases of the same category this close are offered for 附议
		SweepEvery  time.Duration `yaml:"sweep_every"`  // how often deadlines are checked
	} `yaml:"cases"`
	Workers struct {
		InboxLease       time.Duration `yaml:"inbox_lease"`
		OutboxLease      time.Duration `yaml:"outbox_lease"`
		Poll             time.Duration `yaml:"poll"`
		OutboxAttempts   int           `yaml:"outbox_attempts"`
		OutboxBackoff    time.Duration `yaml:"outbox_backoff"`
		OutboxMaxBackoff time.Duration `yaml:"outbox_max_backoff"`
	} `yaml:"workers"`
	Reports    ReportsConfig    `yaml:"reports"`
	Assessment AssessmentConfig `yaml:"assessment"`
	Log        struct {
		Level  string `yaml:"level"`  // debug, info, warn, error
		Format string `yaml:"format"` // text or json
	} `yaml:"log"`
}

// Demo credentials of the embedded default. They only ever talk to the
// simulated WeCom inside the same process.
const (
	demoCorpID  = "ww0gridbotdemo0000"
	demoAgentID = 1000002
	demoSecret  = "gridbot-demo-secret"
	demoToken   = "gridbotdemo"
	demoAESKey  = "R3JpZGJvdERlbW9LZXlGb3JTaW11bGF0ZWRXZUNvbTA"
)

// DefaultConfig is the embedded default: SQLite under ./data, the
// simulated WeCom, demo credentials, 127.0.0.1:8080.
func DefaultConfig() Config {
	var c Config
	c.Listen = "127.0.0.1:8080"
	c.DataDir = "./data"
	c.Store.AutoMigrate = true
	c.WeCom.CorpID = demoCorpID
	c.WeCom.AgentID = demoAgentID
	c.WeCom.Secret = demoSecret
	c.WeCom.Token = demoToken
	c.WeCom.AESKey = demoAESKey
	c.WeCom.Simulate = true
	c.WeCom.Robots = map[string]Secret{"committee": "demo-robot-committee"}
	setDefaults(&c)
	return c
}

// setDefaults fills what a config file left empty.
func setDefaults(c *Config) {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8080"
	}
	if c.DataDir == "" {
		c.DataDir = "./data"
	}
	if c.Store.SQLitePath == "" {
		c.Store.SQLitePath = strings.TrimRight(c.DataDir, "/") + "/gridbot.db"
	}
	if c.Redis.KeyPrefix == "" {
		c.Redis.KeyPrefix = "gridbot:"
	}
	if c.WeCom.APIBase == "" && !c.WeCom.Simulate {
		c.WeCom.APIBase = "https://qyapi.weixin.qq.com"
	}
	if c.WeCom.TimestampWindow == 0 {
		c.WeCom.TimestampWindow = 300 * time.Second
	}
	if c.WeCom.HTTPTimeout == 0 {
		c.WeCom.HTTPTimeout = 10 * time.Second
	}
	if c.WeCom.AppRate == 0 {
		c.WeCom.AppRate = 50
	}
	if c.Media.Dir == "" {
		c.Media.Dir = strings.TrimRight(c.DataDir, "/") + "/media"
	}
	if c.Media.MaxBytes == 0 {
		c.Media.MaxBytes = 10 << 20
	}
	if c.Cases.SmallHour == 0 {
		c.Cases.SmallHour = 24
	}
	if c.Cases.BigDays == 0 {
		c.Cases.BigDays = 7
	}
	if c.Cases.RemindShare == 0 {
		c.Cases.RemindShare = 0.8
	}
	if c.Cases.DraftWindow == 0 {
		c.Cases.DraftWindow = 10 * time.Minute
	}
	if c.Cases.DupMeters == 0 {
		c.Cases.DupMeters = 50
	}
	if c.Cases.SweepEvery == 0 {
		c.Cases.SweepEvery = 30 * time.Second
	}
	if c.Workers.InboxLease == 0 {
		c.Workers.InboxLease = time.Minute
	}
	if c.Workers.OutboxLease == 0 {
		c.Workers.OutboxLease = time.Minute
	}
	if c.Workers.Poll == 0 {
		c.Workers.Poll = time.Second
	}
	if c.Workers.OutboxBackoff == 0 {
		c.Workers.OutboxBackoff = 2 * time.Second
	}
	if c.Workers.OutboxMaxBackoff == 0 {
		c.Workers.OutboxMaxBackoff = 10 * time.Minute
	}
	c.Reports.setDefaults()
	c.Assessment.setDefaults()
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.Log.Format == "" {
		c.Log.Format = "text"
	}
}

// LoadConfig reads path (the embedded default when path is ""), applies
// the GRIDBOT_* environment and the *_FILE secrets, and fills defaults.
func LoadConfig(path string, getenv func(string) string) (Config, error) {
	var c Config
	if path == "" {
		c = DefaultConfig()
	} else {
		b, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("config: %w", err)
		}
		c.Store.AutoMigrate = true
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
			return c, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if err := applyEnv(&c, getenv, path == ""); err != nil {
		return c, err
	}
	setDefaults(&c)
	return c, nil
}

// applyEnv applies the GRIDBOT_* overrides and reads every *_FILE secret.
func applyEnv(c *Config, getenv func(string) string, embedded bool) error {
	var problems []string
	str := func(name string, dst *string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	secret := func(name string, dst *Secret, fileField string) {
		if v := getenv(name); v != "" {
			*dst = Secret(v)
		}
		file := fileField
		if v := getenv(name + "_FILE"); v != "" {
			file = v
		}
		if file != "" {
			b, err := os.ReadFile(file)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s_FILE: cannot read %s: %v", name, file, errors.Unwrap(err)))
				return
			}
			*dst = Secret(strings.TrimSpace(string(b)))
		}
	}
	str("GRIDBOT_LISTEN", &c.Listen)
	str("GRIDBOT_DEBUG_LISTEN", &c.DebugListen)
	secret("GRIDBOT_MYSQL_DSN", &c.Store.MySQLDSN, c.Store.MySQLDSNFile)
	str("GRIDBOT_SQLITE_PATH", &c.Store.SQLitePath)
	str("GRIDBOT_REDIS_ADDR", &c.Redis.Addr)
	secret("GRIDBOT_REDIS_PASSWORD", &c.Redis.Password, c.Redis.PasswordFile)
	str("GRIDBOT_WECOM_CORP_ID", &c.WeCom.CorpID)
	if v := getenv("GRIDBOT_WECOM_AGENT_ID"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			problems = append(problems, fmt.Sprintf("GRIDBOT_WECOM_AGENT_ID must be a number, got %q", v))
		}
		c.WeCom.AgentID = n
	}
	secret("GRIDBOT_WECOM_SECRET", &c.WeCom.Secret, c.WeCom.SecretFile)
	secret("GRIDBOT_WECOM_TOKEN", &c.WeCom.Token, c.WeCom.TokenFile)
	secret("GRIDBOT_WECOM_AES_KEY", &c.WeCom.AESKey, c.WeCom.AESKeyFile)
	if v := getenv("GRIDBOT_WECOM_API_BASE"); v != "" {
		c.WeCom.APIBase = v
		if embedded {
			c.WeCom.Simulate = false // a real (or separately run fake) WeCom
		}
	}
	secret("GRIDBOT_API_TOKEN", &c.API.Token, c.API.TokenFile)
	robotsFile := c.WeCom.RobotsFile
	if v := getenv("GRIDBOT_WECOM_ROBOTS_FILE"); v != "" {
		robotsFile = v
	}
	if robotsFile != "" {
		b, err := os.ReadFile(robotsFile)
		if err != nil {
			problems = append(problems, fmt.Sprintf("wecom.robots_file: cannot read %s", robotsFile))
		} else {
			var m map[string]string
			if err := yaml.Unmarshal(b, &m); err != nil {
				problems = append(problems, fmt.Sprintf("wecom.robots_file: %s is not a YAML map of name: key", robotsFile))
			}
			if c.WeCom.Robots == nil {
				c.WeCom.Robots = map[string]Secret{}
			}
			for k, v := range m {
				c.WeCom.Robots[k] = Secret(v)
			}
		}
	}
	if len(problems) > 0 {
		return &ConfigError{Problems: problems}
	}
	return nil
}

// ConfigError lists every problem of a config at once.
type ConfigError struct{ Problems []string }

func (e *ConfigError) Error() string {
	return "config has " + strconv.Itoa(len(e.Problems)) + " problem(s):\n  - " + strings.Join(e.Problems, "\n  - ")
}

var (
	tokenRe  = regexp.MustCompile(`^[A-Za-z0-9]{1,32}$`)
	aesKeyRe = regexp.MustCompile(`^[A-Za-z0-9]{43}$`)
)

// Validate reports every problem of c at once, in plain words.
func (c *Config) Validate() error {
	var p []string
	add := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	if _, port, err := net.SplitHostPort(c.Listen); err != nil || port == "" {
		add("listen must be host:port, got %q", c.Listen)
	}
	if c.DebugListen != "" && !isLoopback(c.DebugListen) {
		add("debug_listen must be a loopback host:port (127.0.0.1:6060), got %q: profiles are not for the network", c.DebugListen)
	}
	if c.Store.MySQLDSN == "" && c.Store.SQLitePath == "" {
		add("store needs mysql_dsn or sqlite_path")
	}
	w := c.WeCom
	if w.CorpID == "" {
		add("wecom.corp_id is empty")
	}
	if w.AgentID <= 0 {
		add("wecom.agent_id must be a positive number, got %d", w.AgentID)
	}
	if w.Secret == "" {
		add("wecom.secret is empty (set it, GRIDBOT_WECOM_SECRET or GRIDBOT_WECOM_SECRET_FILE)")
	}
	if !tokenRe.MatchString(w.Token.Value()) {
		add("wecom.token must be 1 to 32 letters or digits, got %d characters", len(w.Token))
	}
	if len(w.AESKey) != 43 {
		add("wecom.aes_key must be 43 characters, got %d", len(w.AESKey))
	} else if !aesKeyRe.MatchString(w.AESKey.Value()) {
		add("wecom.aes_key must be letters and digits only")
	}
	if !w.Simulate {
		if u, err := url.Parse(w.APIBase); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("wecom.api_base must be an http(s) URL, got %q", w.APIBase)
		}
	}
	if w.TimestampWindow < 0 {
		add("wecom.timestamp_window must be 0 (off) or positive, got %s", w.TimestampWindow)
	}
	if w.HTTPTimeout <= 0 {
		add("wecom.http_timeout must be positive")
	}
	if w.AppRate < 0 {
		add("wecom.app_rate must be 0 or positive")
	}
	for name, key := range w.Robots {
		if key == "" {
			add("wecom.robots.%s has an empty key", name)
		}
	}
	if c.Cases.SmallHour < 1 || c.Cases.SmallHour > 24 {
		add("cases.small_hour must be 1 to 24, got %d", c.Cases.SmallHour)
	}
	if c.Cases.BigDays < 1 {
		add("cases.big_days must be at least 1, got %d", c.Cases.BigDays)
	}
	if c.Cases.RemindShare <= 0 || c.Cases.RemindShare >= 1 {
		add("cases.remind_share must be between 0 and 1, got %g", c.Cases.RemindShare)
	}
	if c.Cases.DraftWindow <= 0 || c.Cases.SweepEvery <= 0 || c.Cases.DupMeters <= 0 {
		add("cases.draft_window, cases.sweep_every and cases.dup_meters must be positive")
	}
	if c.Media.MaxBytes <= 0 {
		add("media.max_bytes must be positive")
	}
	if c.Workers.OutboxLease <= w.HTTPTimeout {
		add("workers.outbox_lease (%s) must be longer than wecom.http_timeout (%s)", c.Workers.OutboxLease, w.HTTPTimeout)
	}
	if c.Workers.OutboxAttempts < 0 {
		add("workers.outbox_attempts must be 0 (never give up on retryable failures) or positive")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		add("log.level must be debug, info, warn or error, got %q", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		add("log.format must be text or json, got %q", c.Log.Format)
	}
	if len(p) > 0 {
		return &ConfigError{Problems: p}
	}
	return nil
}
