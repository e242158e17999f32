package store

import (
	"context"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// fallbackRig is a FallbackKV on miniredis (which a test can make fail)
// over the SQL session table, all on one fake clock.
type fallbackRig struct {
	kv  *FallbackKV
	mr  *miniredis.Miniredis
	sql *SQLKV
	clk *fakeClock
	n   int // primary failures reported
}

func newFallbackRig(t *testing.T) *fallbackRig {
	t.Helper()
	e := openSQLite(t)
	mr := miniredis.RunT(t)
	client := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{mr.Addr()}, MaxRetries: -1})
	t.Cleanup(func() { client.Close() })
	sql, err := NewSQLKV(e.db, TableSessions)
	must(t, err)
	r := &fallbackRig{mr: mr, sql: sql, clk: e.clock}
	r.kv = NewFallbackKV(NewRedisKV(client, "sess:"), sql, FallbackOptions{Now: e.clock.Now, Window: time.Hour,
		OnFallback: func(string, error) { r.n++ }})
	return r
}

// The FallbackKV passes the key-value contract while the primary answers.
func TestFallbackKVContract(t *testing.T) {
	r := newFallbackRig(t)
	testKV(t, kvHarness{kv: r.kv, elapse: func(d time.Duration) { r.mr.FastForward(d); r.clk.Advance(d) }})
}

func (r *fallbackRig) get(t *testing.T, key string) string {
	t.Helper()
	v, ok, err := r.kv.Get(t.Context(), key)
	must(t, err)
	if !ok {
		return "<none>"
	}
	return string(v)
}

// Redis goes down: reads and writes go on in SQL; when it is back, what
// was written during the outage wins over Redis's older copies, deletes
// made during the outage stay deleted, and new writes go to Redis again.
func TestFallbackKVOutage(t *testing.T) {
	r := newFallbackRig(t)
	ctx := t.Context()
	must(t, r.kv.Set(ctx, "before", []byte("b1"), 30*time.Minute))
	must(t, r.kv.Set(ctx, "gone", []byte("g1"), 30*time.Minute))
	must(t, r.kv.Set(ctx, "changed", []byte("c1"), 30*time.Minute))
	if _, ok, _ := r.sql.Get(ctx, "before"); ok || r.n != 0 {
		t.Fatal("a healthy primary wrote to the fallback")
	}

	r.mr.SetError("LOADING Redis is down")
	if got := r.get(t, "before"); got != "<none>" { // written before: not seen during the outage
		t.Fatalf("before = %s during the outage", got)
	}
	must(t, r.kv.Set(ctx, "during", []byte("d1"), 30*time.Minute))
	must(t, r.kv.Set(ctx, "changed", []byte("c2"), 30*time.Minute))
	must(t, r.kv.Delete(ctx, "gone"))
	if got := r.get(t, "during"); got != "d1" {
		t.Fatalf("during = %s, want d1 (from SQL)", got)
	}
	if r.n == 0 {
		t.Fatal("the outage was not reported")
	}

	r.mr.SetError("")
	r.clk.Advance(time.Minute)
	for key, want := range map[string]string{"during": "d1", "changed": "c2", "gone": "<none>", "before": "b1"} {
		if got := r.get(t, key); got != want {
			t.Fatalf("after the outage %s = %s, want %s", key, got, want)
		}
	}
	// A write now goes to Redis and clears the SQL copy.
	must(t, r.kv.Set(ctx, "changed", []byte("c3"), 30*time.Minute))
	if _, ok, _ := r.sql.Get(ctx, "changed"); ok {
		t.Fatal("the fallback's copy outlived a write to the primary")
	}
	if v, _ := r.mr.Get("sess:changed"); v != "c3" {
		t.Fatalf("redis has changed = %q, want c3", v)
	}
	if got := r.get(t, "changed"); got != "c3" {
		t.Fatalf("changed = %s, want c3", got)
	}

	// Both down: the error is returned, nothing is made up.
	r.mr.SetError("LOADING Redis is down")
	r.sql.db.Close()
	if _, _, err := r.kv.Get(ctx, "during"); err == nil {
		t.Fatal("Get with both stores down did not fail")
	}
	if err := r.kv.Set(ctx, "x", []byte("1"), time.Minute); err == nil {
		t.Fatal("Set with both stores down did not fail")
	}
}

// A caller that gives up is not a Redis outage: nothing falls back.
func TestFallbackKVCancelled(t *testing.T) {
	r := newFallbackRig(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := r.kv.Delete(ctx, "k"); err == nil {
		t.Fatal("Delete with a cancelled context succeeded")
	}
	if r.n != 0 {
		t.Fatal("a cancelled call was taken for a Redis failure")
	}
	if _, ok, _ := r.sql.Get(t.Context(), "k"); ok {
		t.Fatal("a cancelled Delete left a tombstone in SQL")
	}
}
