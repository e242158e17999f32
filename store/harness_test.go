package store

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"gridbot/bot"
)

// Environment variables that point the tests at real servers. With CI=true a
// missing one fails the run instead of skipping.
const (
	envMySQLDSN  = "GRIDBOT_TEST_MYSQL_DSN"
	envRedisAddr = "GRIDBOT_TEST_REDIS_ADDR"
)

// requireEnv returns the value of name, or skips the test when it is unset
// (fails it under CI=true, where every backend must be tested).
func requireEnv(t *testing.T, name, example string) string {
	t.Helper()
	v := os.Getenv(name)
	if v != "" {
		return v
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true but %s is not set: the store tests must run against it (e.g. %s=%q)", name, name, example)
	}
	t.Skipf("%s not set; skipping (e.g. %s=%q)", name, name, example)
	return ""
}

// fakeClock is a clock the tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 3, 3, 9, 30, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is one fresh, migrated store and its clock.
type env struct {
	db    *DB
	clock *fakeClock
}

// opener makes a fresh store for one test.
type opener func(t *testing.T) env

// openSQLite opens a migrated SQLite store in a new temporary directory.
func openSQLite(t *testing.T) env {
	t.Helper()
	clk := newFakeClock()
	db, err := Open(t.Context(), Options{
		Driver:     DriverSQLite,
		SQLitePath: filepath.Join(t.TempDir(), "data", "gridbot.db"),
		Now:        clk.Now,
		Migrate:    true,
	})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return env{db: db, clock: clk}
}

const exampleMySQLDSN = "gridbot:gridbot@tcp(127.0.0.1:3306)/gridbot_test?parseTime=true"

// openMySQL opens the test MySQL database, drops every table in it (goose's
// version table too) and migrates it afresh. Tests on MySQL share one
// database, so they must not run in parallel.
func openMySQL(t *testing.T) env {
	t.Helper()
	dsn := requireEnv(t, envMySQLDSN, exampleMySQLDSN)
	clk := newFakeClock()
	db, err := Open(t.Context(), Options{Driver: DriverMySQL, DSN: dsn, Now: clk.Now})
	if err != nil {
		t.Fatalf("open mysql: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	dropAllTables(t, db)
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatalf("migrate mysql: %v", err)
	}
	return env{db: db, clock: clk}
}

// dropAllTables empties the test database.
func dropAllTables(t *testing.T, db *DB) {
	t.Helper()
	var tables []string
	if err := db.db.SelectContext(t.Context(), &tables, `SHOW TABLES`); err != nil {
		t.Fatalf("list tables: %v", err)
	}
	for _, name := range tables {
		if _, err := db.db.ExecContext(t.Context(), "DROP TABLE `"+name+"`"); err != nil {
			t.Fatalf("drop table %s: %v", name, err)
		}
	}
}

// forEachSQL runs test on a fresh SQLite store, and on MySQL when
// GRIDBOT_TEST_MYSQL_DSN is set.
func forEachSQL(t *testing.T, test func(t *testing.T, open opener)) {
	t.Run("sqlite", func(t *testing.T) { test(t, openSQLite) })
	t.Run("mysql", func(t *testing.T) {
		requireEnv(t, envMySQLDSN, exampleMySQLDSN)
		test(t, openMySQL)
	})
}

// kvHarness is a key-value store under test and how to move its time.
type kvHarness struct {
	kv bot.KV
	// elapse moves the store's time forward; nil when it cannot be moved
	// (a real Redis server).
	elapse func(d time.Duration)
	// ttl returns the time key has left (negative when it has no expiry);
	// nil when the store cannot tell.
	ttl func(key string) time.Duration
}

// forEachKV runs test on every key-value store: both SQL tables on every SQL
// backend, miniredis always, and a real Redis when GRIDBOT_TEST_REDIS_ADDR is set.
func forEachKV(t *testing.T, test func(t *testing.T, h kvHarness)) {
	forEachSQL(t, func(t *testing.T, open opener) {
		for _, table := range []string{TableSessions, TableTokenCache} {
			t.Run(table, func(t *testing.T) {
				e := open(t)
				kv, err := NewSQLKV(e.db, table)
				if err != nil {
					t.Fatal(err)
				}
				test(t, kvHarness{kv: kv, elapse: e.clock.Advance})
			})
		}
	})
	t.Run("miniredis", func(t *testing.T) {
		mr := miniredis.RunT(t)
		client := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{mr.Addr()}})
		t.Cleanup(func() { client.Close() })
		prefix := "test:"
		test(t, kvHarness{
			kv:     NewRedisKV(client, prefix),
			elapse: mr.FastForward,
			ttl: func(key string) time.Duration {
				if !mr.Exists(prefix + key) {
					return -2
				}
				if d := mr.TTL(prefix + key); d > 0 {
					return d
				}
				return -1
			},
		})
	})
	t.Run("redis", func(t *testing.T) {
		addr := requireEnv(t, envRedisAddr, "127.0.0.1:6379")
		client := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{addr}})
		t.Cleanup(func() { client.Close() })
		if err := client.Ping(t.Context()).Err(); err != nil {
			t.Fatalf("redis at %s: %v", addr, err)
		}
		prefix := "gridbot-test:" + strings.ReplaceAll(t.Name(), "/", ":") + ":" + rand.Text() + ":"
		t.Cleanup(func() { deletePrefix(t, client, prefix) })
		test(t, kvHarness{
			kv: NewRedisKV(client, prefix),
			ttl: func(key string) time.Duration {
				d, err := client.PTTL(t.Context(), prefix+key).Result()
				if err != nil {
					t.Fatalf("PTTL: %v", err)
				}
				return d
			},
		})
	})
}

// deletePrefix removes the keys a test left on a real Redis.
func deletePrefix(t *testing.T, client redis.UniversalClient, prefix string) {
	ctx := context.WithoutCancel(t.Context())
	iter := client.Scan(ctx, 0, prefix+"*", 100).Iterator()
	for iter.Next(ctx) {
		client.Del(ctx, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Errorf("clean up redis keys: %v", err)
	}
}

// wantCode fails the test unless err carries the bot error code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := bot.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (err %v), want %q", got, err, code)
	}
}

// must fails the test on err.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
