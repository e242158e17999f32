package bot_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gridbot/bot"
	"gridbot/bot/wecom"
	"gridbot/bot/wecom/wecomfake"
	"gridbot/store"
)

// clock is a movable clock shared by the store, the dispatcher and the fake.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type rig struct {
	db   *store.DB
	fake *wecomfake.Fake
	disp *bot.Dispatcher
	clk  *clock
}

func newRig(t *testing.T) *rig {
	t.Helper()
	clk := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	db, err := store.Open(context.Background(), store.Options{Driver: store.DriverSQLite,
		SQLitePath: filepath.Join(t.TempDir(), "g.db"), Migrate: true, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	fake := wecomfake.New(wecomfake.Options{CorpID: "wwc", CorpSecret: "s", AgentID: 7, Now: clk.Now,
		Robots: map[string]string{"grp": "k1"}})
	api := httptest.NewServer(fake)
	t.Cleanup(api.Close)
	tokens, _ := store.NewSQLKV(db, "token_cache")
	client := wecom.NewClient(wecom.ClientOptions{BaseURL: api.URL, CorpID: "wwc", AgentID: 7, Secret: "s",
		Tokens: tokens, Robots: map[string]string{"grp": "k1"}, MediaDir: t.TempDir()})
	disp := &bot.Dispatcher{Outbox: db.Outbox(), Sender: client, Limiter: db.RateLimiter(), Clock: clk,
		Owner: "d1", Jitter: func() float64 { return 0 }}
	return &rig{db: db, fake: fake, disp: disp, clk: clk}
}

// drain runs the dispatcher until a pass takes nothing.
func (r *rig) drain(t *testing.T) {
	t.Helper()
	for i := 0; i < 100; i++ {
		n, err := r.disp.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	t.Fatal("the dispatcher never ran dry")
}

func (r *rig) states(t *testing.T) map[string]int {
	d, err := r.db.Outbox().Depth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// No member gets more than 30 messages in any minute, and no robot more
// than 20: the rest wait for the window, in order, and then go.
func TestDispatcherRateLimits(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	var items []bot.OutboxItem
	for i := 0; i < 35; i++ {
		items = append(items, bot.NewTextMessage(fmt.Sprintf("u1-%d", i), "u1", fmt.Sprintf("第%d条", i)))
	}
	for i := 0; i < 3; i++ {
		items = append(items, bot.NewTextMessage(fmt.Sprintf("u2-%d", i), "u2", "你好"))
	}
	for i := 0; i < 22; i++ {
		items = append(items, bot.NewWebhookMarkdown(fmt.Sprintf("r-%d", i), "grp", fmt.Sprintf("**简报** %d", i)))
	}
	if err := r.db.Outbox().Enqueue(ctx, items...); err != nil {
		t.Fatal(err)
	}
	r.drain(t)
	if got := len(r.fake.Messages("u1")); got != 30 {
		t.Fatalf("u1 got %d messages in the first minute, want 30", got)
	}
	if got := len(r.fake.Messages("u2")); got != 3 {
		t.Fatalf("u2 got %d, want 3 (another member's limit must not hold u2 back)", got)
	}
	if got := len(r.fake.Messages("robot:grp")); got != 20 {
		t.Fatalf("robot got %d, want 20", got)
	}
	if st := r.states(t); st[bot.OutPending] != 7 {
		t.Fatalf("pending = %d, want 7 (5 for u1, 2 for the robot): %v", st[bot.OutPending], st)
	}
	r.clk.Add(61 * time.Second)
	r.drain(t)
	if got := len(r.fake.Messages("u1")); got != 35 {
		t.Fatalf("u1 got %d messages after the window, want 35", got)
	}
	if got := len(r.fake.Messages("robot:grp")); got != 22 {
		t.Fatalf("robot got %d after the window, want 22", got)
	}
	if m := r.fake.MaxPerMinute("u1"); m > 30 {
		t.Fatalf("u1 received %d messages within one minute", m)
	}
	// Order is kept per member.
	msgs := r.fake.Messages("u1")
	for i, m := range msgs {
		if want := fmt.Sprintf("第%d条", i); !strings.Contains(string(m.Body), want) {
			t.Fatalf("message %d to u1 is %s, want %s", i, m.Body, want)
		}
	}
	if st := r.states(t); st[bot.OutSent] != 60 || st[bot.OutPending] != 0 || st[bot.OutDead] != 0 {
		t.Fatalf("final states %v", st)
	}
}

// A retried item waits out its backoff (1 s, 2 s, 4 s with no jitter and
// a 2 s base): it is not sent again a moment before, and is right after.
func TestDispatcherBacksOff(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.fake.FailNextOn("message/send", 3, 45009)
	if err := r.db.Outbox().Enqueue(ctx, bot.NewTextMessage("k", "u9", "在吗")); err != nil {
		t.Fatal(err)
	}
	sends := func() int { return count(r.fake.Requests(), "message/send") }
	r.drain(t)
	if sends() != 1 {
		t.Fatalf("first pass made %d sends", sends())
	}
	for i, wait := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		r.clk.Add(wait - time.Millisecond)
		r.drain(t)
		if sends() != i+1 {
			t.Fatalf("retry %d went early: %d sends", i+1, sends())
		}
		r.clk.Add(2 * time.Millisecond)
		r.drain(t)
		if sends() != i+2 {
			t.Fatalf("retry %d did not go after %s: %d sends", i+1, wait, sends())
		}
	}
	if got := len(r.fake.Messages("u9")); got != 1 {
		t.Fatalf("u9 got %d messages, want 1", got)
	}
	it, err := r.db.Outbox().List(ctx, bot.OutSent, 10)
	if err != nil || len(it) != 1 || it[0].Attempts != 3 {
		t.Fatalf("sent items %+v (%v), want one with 3 failed attempts", it, err)
	}
}

func count(reqs []wecomfake.Request, api string) int {
	n := 0
	for _, q := range reqs {
		if q.API == api {
			n++
		}
	}
	return n
}

// Backoff doubles, is capped, and jitters within its upper half.
func TestBackoff(t *testing.T) {
	base, max := time.Second, 10*time.Second
	prev := time.Duration(0)
	for n := 1; n <= 8; n++ {
		lo, hi := bot.Backoff(n, base, max, 0), bot.Backoff(n, base, max, 0.999999)
		if lo < prev {
			t.Fatalf("backoff(%d) = %s shrank from %s", n, lo, prev)
		}
		if hi > max || hi < lo || lo*2 < hi-time.Millisecond {
			t.Fatalf("backoff(%d) range [%s, %s] is off", n, lo, hi)
		}
		prev = lo
	}
	if got := bot.Backoff(30, base, max, 0); got != max/2 {
		t.Fatalf("capped backoff floor = %s, want %s", got, max/2)
	}
}
