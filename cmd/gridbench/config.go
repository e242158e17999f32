package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The embedded default's demo credentials (cmd/gridbot/config.go): a
// spawned gridbot with no config uses them, and so does gridbench.
const (
	demoCorpID  = "ww0gridbotdemo0000"
	demoAgentID = 1000002
	demoSecret  = "gridbot-demo-secret"
	demoToken   = "gridbotdemo"
	demoAESKey  = "R3JpZGJvdERlbW9LZXlGb3JTaW11bGF0ZWRXZUNvbTA"
)

// config is every setting of one gridbench run.
type config struct {
	URL      string        // the gridbot callback URL (not with Spawn)
	Spawn    bool          // start gridbot from Bin
	Bin      string        // the gridbot binary
	MySQLDSN string        // passed to the spawned gridbot as GRIDBOT_MYSQL_DSN
	Redis    string        // passed to the spawned gridbot as GRIDBOT_REDIS_ADDR
	WeCom    string        // spawned gridbot's WeCom: "fake" (one gridbench serves) or "sim" (its own simulator)
	Keep     bool          // keep the spawned gridbot's directory (log, database)
	Drain    time.Duration // with Spawn: wait this long at most for the inbox to be processed
	Rate     int           // callbacks a second; 0 = as fast as Conc workers can
	Conc     int           // workers (requests in flight at most)
	Duration time.Duration // how long load is sent
	Warmup   time.Duration // load sent before measuring, not counted
	Timeout  time.Duration // per request
	Baseline bool          // also measure the baseline (the ratio needs it)
	Mix      mix           // shares of the kinds of callback
	Seed     uint64        // of the random choices

	Token, AESKey, CorpID string
	AgentID               int
	Secret                string // the fake WeCom's corpsecret
}

// parseFlags reads the command line; GRIDBOT_MYSQL_DSN and
// GRIDBOT_REDIS_ADDR in the environment are the defaults of -mysql-dsn and
// -redis-addr.
func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("gridbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.URL, "url", "", "gridbot's callback URL, e.g. http://127.0.0.1:8080/wecom/callback (loopback only)")
	fs.BoolVar(&c.Spawn, "spawn", false, "start gridbot from -bin on a free port with a temporary SQLite file (or -mysql-dsn/-redis-addr), stop it after")
	fs.StringVar(&c.Bin, "bin", "", "the gridbot binary for -spawn (gridbench builds nothing)")
	fs.StringVar(&c.MySQLDSN, "mysql-dsn", getenv("GRIDBOT_MYSQL_DSN"), "spawned gridbot's GRIDBOT_MYSQL_DSN (default from the environment)")
	fs.StringVar(&c.Redis, "redis-addr", getenv("GRIDBOT_REDIS_ADDR"), "spawned gridbot's GRIDBOT_REDIS_ADDR (default from the environment)")
	fs.StringVar(&c.WeCom, "wecom", "fake", `spawned gridbot's WeCom API: "fake" (a fake WeCom gridbench serves on loopback) or "sim" (gridbot's own simulator)`)
	fs.DurationVar(&c.Drain, "drain", time.Minute, "with -spawn: after the load, wait at most this long for gridbot to process every acknowledged callback (0: don't wait)")
	fs.BoolVar(&c.Keep, "keep", false, "keep the spawned gridbot's directory (its log and database)")
	fs.IntVar(&c.Rate, "rate", 1000, "callbacks a second on a fixed schedule; 0: as fast as -c workers can")
	fs.IntVar(&c.Conc, "c", 0, "workers, i.e. requests in flight at most (default 64 with -rate 0, else 512)")
	fs.DurationVar(&c.Duration, "d", 10*time.Second, "how long to send load (each of gridbot and the baseline)")
	fs.DurationVar(&c.Warmup, "warmup", time.Second, "load sent first and not counted")
	fs.DurationVar(&c.Timeout, "timeout", 10*time.Second, "per request")
	fs.BoolVar(&c.Baseline, "baseline", true, "also drive the baseline handler (the ratio line needs it)")
	mixFlag := fs.String("mix", "report=40,stranger=30,click=15,retry=15", "shares of: report (roster members' texts, every other one 取消), stranger (texts from users not in the roster), click (card button taps), retry (a delivery already sent, sealed again)")
	fs.Uint64Var(&c.Seed, "seed", 1, "seed of the random choices")
	fs.StringVar(&c.Token, "token", demoToken, "the app's callback Token")
	fs.StringVar(&c.AESKey, "aes-key", demoAESKey, "the app's EncodingAESKey")
	fs.StringVar(&c.CorpID, "corp-id", demoCorpID, "the CorpID")
	fs.IntVar(&c.AgentID, "agent-id", demoAgentID, "the AgentID")
	fs.StringVar(&c.Secret, "secret", demoSecret, "the app's Secret (the fake WeCom's corpsecret with -wecom fake)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var err error
	if c.Mix, err = parseMix(*mixFlag); err != nil {
		return c, err
	}
	if c.Conc == 0 {
		c.Conc = 512
		if c.Rate == 0 {
			c.Conc = 64
		}
	}
	var problems []string
	switch {
	case c.Spawn && c.Bin == "":
		problems = append(problems, "-spawn needs -bin, the gridbot binary")
	case c.Spawn && c.URL != "":
		problems = append(problems, "-spawn and -url exclude each other")
	case !c.Spawn && c.URL == "":
		problems = append(problems, "give -url of a running gridbot, or -spawn -bin PATH")
	case !c.Spawn:
		if err := checkLoopback(c.URL); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if c.WeCom != "fake" && c.WeCom != "sim" {
		problems = append(problems, `-wecom must be "fake" or "sim"`)
	}
	if c.Rate < 0 || c.Conc < 1 || c.Duration <= 0 || c.Warmup < 0 || c.Timeout <= 0 {
		problems = append(problems, "-rate must be ≥ 0, -c ≥ 1, -d and -timeout positive, -warmup ≥ 0")
	}
	if len(problems) > 0 {
		return c, errors.New(strings.Join(problems, "; "))
	}
	return c, nil
}

// checkLoopback refuses a target that is not on this machine's loopback.
func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("-url must be an http URL, got %q", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("-url must be on loopback (127.0.0.0/8, ::1, localhost), got %s", host)
}

// kind is one kind of callback gridbench sends.
type kind string

const (
	kindReport   kind = "report"
	kindStranger kind = "stranger"
	kindClick    kind = "click"
	kindRetry    kind = "retry"
)

// mix is the share of each kind, as cumulative weights.
type mix struct {
	kinds []kind
	cum   []int
	total int
}

// parseMix reads "report=40,stranger=30,click=15,retry=15".
func parseMix(s string) (mix, error) {
	var m mix
	for _, part := range strings.Split(s, ",") {
		name, w, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(w)
		if !ok || err != nil || n < 0 {
			return m, fmt.Errorf("-mix: %q is not kind=weight", part)
		}
		switch k := kind(name); k {
		case kindReport, kindStranger, kindClick, kindRetry:
			if n > 0 {
				m.total += n
				m.kinds = append(m.kinds, k)
				m.cum = append(m.cum, m.total)
			}
		default:
			return m, fmt.Errorf("-mix: unknown kind %q (report, stranger, click, retry)", name)
		}
	}
	if m.total == 0 {
		return m, errors.New("-mix: no weight")
	}
	return m, nil
}

// pick returns the kind for a number drawn in [0, total).
func (m mix) pick(n int) kind {
	for i, c := range m.cum {
		if n < c {
			return m.kinds[i]
		}
	}
	return m.kinds[len(m.kinds)-1]
}

// String is the mix as percentages.
func (m mix) String() string {
	var parts []string
	prev := 0
	for i, k := range m.kinds {
		parts = append(parts, fmt.Sprintf("%s %.0f%%", k, 100*float64(m.cum[i]-prev)/float64(m.total)))
		prev = m.cum[i]
	}
	return strings.Join(parts, ", ")
}
