package main

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"gridbot/bot"
	"gridbot/bot/wecom"
)

func noEnv(string) string { return "" }

// A short run at a "gridbot" that is in fact a second baseline: both are
// measured, every callback is answered 200 (so each one opened, with its
// signature, under the same crypto), and the last line is the ratio line.
func TestRunAgainstABaseline(t *testing.T) {
	c, err := parseFlags([]string{"-url", "http://127.0.0.1:1/wecom/callback"}, noEnv, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := newBaseline(c)
	if err != nil {
		t.Fatal(err)
	}
	target, stop, err := b.serve()
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	for _, rate := range []string{"200", "0"} {
		var out bytes.Buffer
		err := run(context.Background(), []string{"-url", target, "-rate", rate, "-c", "4", "-d", "300ms", "-warmup", "50ms"}, noEnv, &out, &bytes.Buffer{})
		if err != nil {
			t.Fatalf("-rate %s: %v\n%s", rate, err, out.String())
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if last := lines[len(lines)-1]; !regexp.MustCompile(`^gridbot/baseline throughput ratio: \d+\.\d\d$`).MatchString(last) {
			t.Fatalf("-rate %s: last line %q\n%s", rate, last, out.String())
		}
		if strings.Count(out.String(), "errors: none") != 2 {
			t.Fatalf("-rate %s: some callbacks failed:\n%s", rate, out.String())
		}
		if rate == "200" && !strings.Contains(out.String(), "sent 60, answered 200: 60") {
			t.Fatalf("-rate 200 for 300ms did not send 60:\n%s", out.String())
		}
	}
}

// The generator makes callbacks gridbot's receiver opens, of every kind,
// with retries carrying an earlier plaintext under a new seal.
func TestGeneratorMakesWeComCallbacks(t *testing.T) {
	c, err := parseFlags([]string{"-url", "http://localhost:8080/wecom/callback", "-mix", "report=1,stranger=1,click=1,retry=1"}, noEnv, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	g, err := newGenerator(c)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := newBaseline(c)
	rnd := rand.New(rand.NewPCG(1, 2))
	kinds := map[kind]int{}
	keys := map[string]int{}
	cancels := 0
	for range 400 {
		s, err := g.make(rnd)
		if err != nil {
			t.Fatal(err)
		}
		q := parseQuery(t, s.query)
		cb, err := b.recv.Open(q, s.body)
		if err != nil {
			t.Fatalf("%s callback does not open: %v", s.kind, err)
		}
		kinds[s.kind]++
		keys[cb.DedupeKey]++
		switch s.kind {
		case kindClick:
			if cb.Msg.Kind != bot.KindCardClick || cb.Msg.ResponseCode == "" {
				t.Fatalf("click = %+v", cb.Msg)
			}
		case kindReport:
			if cb.Msg.Content == "取消" {
				cancels++
			}
		case kindStranger:
			if !strings.HasPrefix(cb.Msg.UserID, "loadtest") {
				t.Fatalf("stranger %q", cb.Msg.UserID)
			}
		}
	}
	for _, k := range []kind{kindReport, kindStranger, kindClick, kindRetry} {
		if kinds[k] < 60 {
			t.Fatalf("kinds %v: too few %s", kinds, k)
		}
	}
	if cancels == 0 || cancels > kinds[kindReport]*2/3 {
		t.Fatalf("%d of %d reports are 取消", cancels, kinds[kindReport])
	}
	dups := 0
	for _, n := range keys {
		dups += n - 1
	}
	if dups < kinds[kindRetry] {
		t.Fatalf("%d retries but only %d repeated dedupe keys", kinds[kindRetry], dups)
	}
}

func parseQuery(t *testing.T, raw string) wecom.Query {
	t.Helper()
	v, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatal(err)
	}
	return wecom.Query{Signature: v.Get("msg_signature"), Timestamp: v.Get("timestamp"), Nonce: v.Get("nonce")}
}

// Flags: loopback only, -spawn needs -bin, a bad mix is refused.
func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-url", "http://10.0.0.1:8080/wecom/callback"},
		{"-url", "http://example.com/wecom/callback"},
		{"-spawn"},
		{},
		{"-url", "http://127.0.0.1:8080/wecom/callback", "-mix", "report=x"},
		{"-url", "http://127.0.0.1:8080/wecom/callback", "-mix", "bogus=1"},
		{"-url", "http://127.0.0.1:8080/wecom/callback", "-wecom", "real"},
	} {
		if _, err := parseFlags(args, noEnv, &bytes.Buffer{}); err == nil {
			t.Fatalf("parseFlags(%q) accepted", args)
		}
	}
	c, err := parseFlags([]string{"-spawn", "-bin", "/x/gridbot", "-rate", "0"}, func(k string) string {
		return map[string]string{"GRIDBOT_MYSQL_DSN": "u:p@tcp(127.0.0.1:3306)/db", "GRIDBOT_REDIS_ADDR": "127.0.0.1:6379"}[k]
	}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Conc != 64 || c.MySQLDSN == "" || c.Redis == "" || c.Token != demoToken || c.AgentID != demoAgentID || c.Duration != 10*time.Second {
		t.Fatalf("config %+v", c)
	}
}
