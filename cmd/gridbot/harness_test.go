package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gridbot/bot"
	"gridbot/bot/wecom"
	"gridbot/bot/wecom/wecomfake"
	"gridbot/store"

	"github.com/go-sql-driver/mysql"
)

// Test credentials: a WeCom app the fake knows.
const (
	tCorp    = "wwtestcorp000001"
	tAgent   = 1000017
	tSecret  = "test-secret"
	tToken   = "testtoken"
	tAESKey  = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	tRobot   = "committee"
	tRobotKy = "robot-key-committee"
)

// backend is where a test app keeps its data.
type backend struct {
	name string
	env  map[string]string // GRIDBOT_REDIS_ADDR; GRIDBOT_MYSQL_DSN is made per app
}

// backends are SQLite always, and MySQL + Redis when the test variables
// are set (with CI=true they must be).
func backends(t *testing.T) []backend {
	bs := []backend{{name: "sqlite", env: map[string]string{}}}
	dsn, raddr := os.Getenv("GRIDBOT_TEST_MYSQL_DSN"), os.Getenv("GRIDBOT_TEST_REDIS_ADDR")
	if dsn == "" || raddr == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but GRIDBOT_TEST_MYSQL_DSN or GRIDBOT_TEST_REDIS_ADDR is not set: the MySQL + Redis suite must run")
		}
		return bs
	}
	return append(bs, backend{name: "mysql+redis", env: map[string]string{"GRIDBOT_REDIS_ADDR": raddr}})
}

// freshMySQL creates an empty database gridbot_test_cmd_N for one app and
// returns its DSN.
func freshMySQL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("GRIDBOT_TEST_MYSQL_DSN")
	cfg, err := mysql.ParseDSN(base)
	if err != nil {
		t.Fatalf("GRIDBOT_TEST_MYSQL_DSN: %v", err)
	}
	name := fmt.Sprintf("gridbot_test_cmd_%d", time.Now().UnixNano()%1e9)
	admin := *cfg
	admin.DBName = ""
	db, err := sql.Open("mysql", admin.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4"); err != nil {
		t.Fatalf("create database %s (the test user needs GRANT ALL ON `gridbot\\_test\\_%%`.*): %v", name, err)
	}
	t.Cleanup(func() {
		if db, err := sql.Open("mysql", admin.FormatDSN()); err == nil {
			_, _ = db.Exec("DROP DATABASE IF EXISTS " + name)
			db.Close()
		}
	})
	cfg.DBName = name
	return cfg.FormatDSN()
}

func openTestStore(t *testing.T, o store.Options) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// testApp is a gridbot started through run(), as a user would start it,
// talking to a fake WeCom the test controls.
type testApp struct {
	t      *testing.T
	base   string
	fake   *wecomfake.Fake
	crypto *wecom.Crypto
	db     *store.DB // a second handle on the app's database, for assertions

	configPath string              // the app's config file
	getenv     func(string) string // the app's environment
}

type appOpts struct {
	config string // extra YAML appended to the generated config
}

func startApp(t *testing.T, be backend, o appOpts) *testApp {
	t.Helper()
	dir := t.TempDir()
	fake := wecomfake.New(wecomfake.Options{
		CorpID: tCorp, CorpSecret: tSecret, AgentID: tAgent,
		Robots: map[string]string{tRobot: tRobotKy},
	})
	api := httptest.NewServer(fake)
	t.Cleanup(api.Close)

	cfgPath := filepath.Join(dir, "config.yaml")
	cfg := fmt.Sprintf(`listen: 127.0.0.1:0
data_dir: %s
wecom:
  corp_id: %s
  agent_id: %d
  secret: %s
  token: %s
  aes_key: %s
  api_base: %s
  http_timeout: 500ms
  robots:
    %s: %s
workers:
  poll: 50ms
  outbox_backoff: 10ms
  outbox_max_backoff: 100ms
redis:
  key_prefix: "gridbot-test-%d:"
log:
  level: warn
reports:
  disabled: true
%s`, dir, tCorp, tAgent, tSecret, tToken, tAESKey, api.URL, tRobot, tRobotKy, time.Now().UnixNano(), o.config)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for k, v := range be.env {
		env[k] = v
	}
	if be.name != "sqlite" {
		env["GRIDBOT_MYSQL_DSN"] = freshMySQL(t)
	}
	getenv := func(k string) string { return env[k] }
	base := startInProcess(t, cfgPath, env).base

	var db *store.DB
	if be.name == "sqlite" {
		db = openTestStore(t, store.Options{Driver: store.DriverSQLite, SQLitePath: filepath.Join(dir, "gridbot.db")})
	} else {
		db = openTestStore(t, store.Options{Driver: store.DriverMySQL, DSN: env["GRIDBOT_MYSQL_DSN"]})
	}
	crypto, err := wecom.NewCrypto(tToken, tAESKey, tCorp)
	if err != nil {
		t.Fatal(err)
	}
	return &testApp{t: t, base: base, fake: fake, crypto: crypto, db: db, configPath: cfgPath, getenv: getenv}
}

// post seals plaintext XML as WeCom would and posts it to the callback.
func (a *testApp) post(plain []byte) *http.Response {
	a.t.Helper()
	q, body, err := a.crypto.Seal(plain, fmt.Sprint(tAgent), time.Now(), randomNonce())
	if err != nil {
		a.t.Fatal(err)
	}
	return a.postRaw(q.URLValues().Encode(), body)
}

func (a *testApp) postRaw(query string, body []byte) *http.Response {
	a.t.Helper()
	resp, err := http.Post(a.base+"/wecom/callback?"+query, "text/xml", strings.NewReader(string(body)))
	if err != nil {
		a.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(strings.NewReader(string(b)))
	return resp
}

func (a *testApp) get(path string) (int, string) {
	a.t.Helper()
	resp, err := http.Get(a.base + path)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitFake blocks until cond holds for the fake WeCom, or fails the test.
func (a *testApp) waitFake(what string, cond func(f *wecomfake.Fake) bool) {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := a.fake.Wait(ctx, cond); err != nil {
		a.t.Fatalf("waiting for %s: %v; the fake received %d requests", what, err, len(a.fake.Requests()))
	}
}

// eventually polls a condition on the database until it holds (the
// dispatcher records a send after the fake answers it).
func (a *testApp) eventually(what string, cond func() bool) {
	a.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			a.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (a *testApp) outbox(state string) []bot.OutboxItem {
	a.t.Helper()
	items, err := a.db.Outbox().List(context.Background(), state, 1000)
	if err != nil {
		a.t.Fatal(err)
	}
	return items
}

func (a *testApp) inboxCount() int {
	a.t.Helper()
	st, err := a.db.Inbox().Stats(context.Background())
	if err != nil {
		a.t.Fatal(err)
	}
	n := 0
	for _, c := range st.ByState {
		n += c
	}
	return n
}

var nonceSeq struct {
	sync.Mutex
	n int
}

func randomNonce() string {
	nonceSeq.Lock()
	defer nonceSeq.Unlock()
	nonceSeq.n++
	return fmt.Sprintf("%d%d", time.Now().UnixNano()%1e6, nonceSeq.n)
}

// lockedBuffer is a goroutine-safe strings.Builder.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) WriteString(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.WriteString(s)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
