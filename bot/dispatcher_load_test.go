package bot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gridbot/bot"
	"gridbot/bot/wecom"
	"gridbot/bot/wecom/wecomfake"
	"gridbot/store"
)

// faultyWeCom wraps the fake WeCom and makes a share of message/send calls
// fail the ways WeCom does: errcode 45009 (frequency limit), HTTP 500, a
// hang until the client gives up before WeCom did anything, and a hang
// after WeCom accepted and delivered the message ("accepted, then timed
// out"): the one case in which a retry may deliver a message twice.
type faultyWeCom struct {
	next http.Handler
	rate float64 // share of message/send calls that fail

	mu       sync.Mutex
	rnd      *rand.Rand
	injected map[string]int // by kind of failure
	lost     map[string]int // message text → times it was accepted, then timed out
}

func newFaultyWeCom(next http.Handler, rate float64, seed uint64) *faultyWeCom {
	return &faultyWeCom{next: next, rate: rate, rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		injected: map[string]int{}, lost: map[string]int{}}
}

// ServeHTTP injects a failure into a share of message/send calls.
func (f *faultyWeCom) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, "/message/send") {
		f.next.ServeHTTP(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	kinds := []string{"45009", "http500", "hang", "accepted+hang"}
	f.mu.Lock()
	fail := f.rnd.Float64() < f.rate
	kind := kinds[f.rnd.IntN(len(kinds))]
	if fail {
		f.injected[kind]++
	}
	f.mu.Unlock()
	if !fail {
		f.next.ServeHTTP(w, r)
		return
	}
	switch kind {
	case "45009":
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"errcode":45009,"errmsg":"api freq out of limit"}`)
	case "http500":
		http.Error(w, "injected", http.StatusInternalServerError)
	case "hang":
		<-r.Context().Done()
	case "accepted+hang":
		rec := httptest.NewRecorder()
		f.next.ServeHTTP(rec, r)
		var ans struct {
			ErrCode int `json:"errcode"`
		}
		if json.Unmarshal(rec.Body.Bytes(), &ans) == nil && ans.ErrCode == 0 {
			f.mu.Lock()
			f.lost[textOf(body)]++
			f.mu.Unlock()
		}
		<-r.Context().Done()
	}
}

// watchTransport records, per message text, the message/send attempts that
// ended in an error on the client's side (a timeout, a reset): only those
// can have been accepted by WeCom without the dispatcher knowing. Most are
// the ones faultyWeCom makes hang; on a busy machine a slow answer can time
// out too.
type watchTransport struct {
	next http.RoundTripper

	mu     sync.Mutex
	failed map[string]int
}

func (w *watchTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(req.URL.Path, "/message/send") || req.Body == nil {
		return w.next.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	text := textOf(body)
	resp, err := w.next.RoundTrip(req)
	if err != nil {
		w.fail(text)
		return nil, err
	}
	resp.Body = &watchedBody{ReadCloser: resp.Body, fail: func() { w.fail(text) }}
	return resp, nil
}

func (w *watchTransport) fail(text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.failed[text]++
}

// watchedBody reports the first error reading an answer (other than EOF).
type watchedBody struct {
	io.ReadCloser
	fail func()
	once sync.Once
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		b.once.Do(b.fail)
	}
	return n, err
}

// textOf is the text content of a message/send body.
func textOf(body []byte) string {
	var m struct {
		Text struct {
			Content string `json:"content"`
		} `json:"text"`
	}
	_ = json.Unmarshal(body, &m)
	return m.Text.Content
}

// 10,000 messages (2,000 with -short) to 250 members through the real
// dispatcher, SQLite store and WeCom client, against the fake WeCom failing
// 10% of sends: every message is delivered, none twice except where WeCom
// accepted a send whose answer timed out (the injected "accepted, then
// hang", or a real answer slower than the client's 200 ms), and no member
// ever gets more than 30 in a minute.
func TestDispatcherLoadWithFaults(t *testing.T) {
	n, members := 10_000, 250
	if testing.Short() {
		n, members = 2_000, 50
	}
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	db, err := store.Open(ctx, store.Options{Driver: store.DriverSQLite,
		SQLitePath: filepath.Join(t.TempDir(), "load.db"), Migrate: true, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	fake := wecomfake.New(wecomfake.Options{CorpID: "wwc", CorpSecret: "s", AgentID: 7, Now: clk.Now})
	faulty := newFaultyWeCom(fake, 0.10, 20261201)
	api := httptest.NewServer(faulty)
	t.Cleanup(api.Close)
	tokens, err := store.NewSQLKV(db, store.TableTokenCache)
	if err != nil {
		t.Fatal(err)
	}
	watch := &watchTransport{next: http.DefaultTransport, failed: map[string]int{}}
	client := wecom.NewClient(wecom.ClientOptions{BaseURL: api.URL, CorpID: "wwc", AgentID: 7, Secret: "s",
		Tokens: tokens, MediaDir: t.TempDir(), HTTP: &http.Client{Timeout: 200 * time.Millisecond, Transport: watch}})
	disp := &bot.Dispatcher{Outbox: db.Outbox(), Sender: client, Limiter: db.RateLimiter(), Clock: clk,
		Owner: "load", Batch: 512, Parallel: 64, Jitter: func() float64 { return 0.5 }}

	// Messages go in in the order a burst of work would produce them:
	// member by member interleaved.
	items := make([]bot.OutboxItem, 0, n)
	for i := range n {
		user := fmt.Sprintf("member%03d", i%members)
		items = append(items, bot.NewTextMessage(fmt.Sprintf("load-%05d", i), user, fmt.Sprintf("消息 %05d", i)))
	}
	for chunk := range slices.Chunk(items, 500) {
		if err := db.Outbox().Enqueue(ctx, chunk...); err != nil {
			t.Fatal(err)
		}
	}

	// Run the dispatcher; when nothing is due, move the clock a second on.
	start, passes, ticks := time.Now(), 0, 0
	for {
		took, err := disp.RunOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		passes++
		if took > 0 {
			continue
		}
		d, err := db.Outbox().Depth(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if d[bot.OutPending] == 0 && d[bot.OutSending] == 0 {
			break
		}
		clk.Add(time.Second)
		if ticks++; ticks > 3600 {
			t.Fatalf("an hour of clock and the outbox is still %v", d)
		}
	}

	d, err := db.Outbox().Depth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d[bot.OutSent] != n || d[bot.OutDead] != 0 {
		t.Fatalf("outbox %v: want all %d sent, none dead", d, n)
	}
	delivered := map[string]int{}
	for _, r := range fake.Requests() {
		if r.API == "message/send" && r.ErrCode == 0 && r.HTTPStatus == 0 && len(r.Recipients) == 1 {
			delivered[textOf(r.Body)]++
		}
	}
	faulty.mu.Lock()
	lost, injected := faulty.lost, faulty.injected
	faulty.mu.Unlock()
	watch.mu.Lock()
	failed := watch.failed
	watch.mu.Unlock()
	twiceInjected, twiceSlow := 0, 0
	for i := range n {
		text := fmt.Sprintf("消息 %05d", i)
		got := delivered[text]
		switch {
		case got == 0:
			t.Fatalf("%q was never delivered", text)
		case got > 1+failed[text]:
			t.Fatalf("%q delivered %d times, though only %d of its sends failed on the client's side", text, got, failed[text])
		case got > 1 && lost[text] > 0:
			twiceInjected++
		case got > 1:
			twiceSlow++ // a real answer came after the client's timeout
		}
	}
	for m := range members {
		user := fmt.Sprintf("member%03d", m)
		if got := fake.MaxPerMinute(user); got > 30 {
			t.Fatalf("%s got %d messages within one minute", user, got)
		}
	}
	failures := 0
	for _, c := range injected {
		failures += c
	}
	if failures < n/20 {
		t.Fatalf("only %d failures injected into %d messages", failures, n)
	}
	t.Logf("%d messages to %d members: %d dispatcher passes, %s of clock, %s; injected %v; "+
		"delivered more than once after a send WeCom accepted but whose answer timed out: %d injected, %d slow answers; none otherwise",
		n, members, passes, time.Duration(ticks)*time.Second, time.Since(start).Round(time.Millisecond), injected, twiceInjected, twiceSlow)
}
