package bot_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gridbot/bot"
	"gridbot/store"
)

// orderHandler records the order in which each member's rows are handled.
// Before, outside the transaction, may hold a row until released.
type orderHandler struct {
	mu     sync.Mutex
	order  map[string][]string // user → dedupe keys, in the order handled
	before func(d *bot.Delivery)
}

func (h *orderHandler) Handle(_ context.Context, _ bot.Tx, d *bot.Delivery) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.order[d.Msg.UserID] = append(h.order[d.Msg.UserID], d.DedupeKey)
	return nil
}
func (h *orderHandler) Before(_ context.Context, d *bot.Delivery) error {
	if h.before != nil {
		h.before(d)
	}
	return nil
}
func (h *orderHandler) After(context.Context, *bot.Delivery) error { return nil }

func openProcessorDB(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), store.Options{Driver: store.DriverSQLite,
		SQLitePath: filepath.Join(t.TempDir(), "p.db"), Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func putRows(t *testing.T, db *store.DB, users []string, each int) {
	t.Helper()
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for i := range each {
		for _, u := range users {
			at = at.Add(time.Millisecond)
			if _, err := db.Inbox().Put(context.Background(), bot.InboxRow{DedupeKey: fmt.Sprintf("%s-%02d", u, i),
				Kind: bot.KindText, UserID: u, Payload: []byte(u), ReceivedAt: at}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func parseUser(b []byte) (bot.Inbound, error) {
	return bot.Inbound{Kind: bot.KindText, UserID: string(b)}, nil
}

// With Parallel, members' rows are processed at the same time, and one
// member's rows still strictly in the order received.
func TestProcessorParallelKeepsEachMembersOrder(t *testing.T) {
	const parallel = 4
	// Two members in different lanes, and six more wherever they fall.
	users := []string{"u0"}
	for i := 1; len(users) < 2; i++ {
		if u := fmt.Sprintf("u%d", i); bot.LaneOf(u, parallel) != bot.LaneOf("u0", parallel) {
			users = append(users, u)
		}
	}
	for i := 100; len(users) < 8; i++ {
		users = append(users, fmt.Sprintf("u%d", i))
	}
	db := openProcessorDB(t)
	putRows(t, db, users, 6)

	// The first rows of the two members in different lanes meet in Before:
	// neither goes on until both are there, which only parallel lanes allow.
	var arrived sync.WaitGroup
	arrived.Add(2)
	met := make(chan struct{})
	go func() { arrived.Wait(); close(met) }()
	var firsts sync.Map
	h := &orderHandler{order: map[string][]string{}, before: func(d *bot.Delivery) {
		if d.Msg.UserID != users[0] && d.Msg.UserID != users[1] {
			return
		}
		if _, seen := firsts.LoadOrStore(d.Msg.UserID, true); seen {
			return
		}
		arrived.Done()
		select {
		case <-met:
		case <-time.After(10 * time.Second):
			t.Errorf("%s waited 10 s for the other lane: rows are not processed in parallel", d.Msg.UserID)
		}
	}}
	p := &bot.Processor{Inbox: db.Inbox(), Handler: h, Parse: parseUser, Owner: "p", Batch: 64, Parallel: parallel}
	n, err := p.RunOnce(t.Context())
	if err != nil || n != len(users)*6 {
		t.Fatalf("RunOnce = %d, %v; want %d rows", n, err, len(users)*6)
	}
	for _, u := range users {
		var want []string
		for i := range 6 {
			want = append(want, fmt.Sprintf("%s-%02d", u, i))
		}
		if got := h.order[u]; !slices.Equal(got, want) {
			t.Errorf("%s handled %v, want %v", u, got, want)
		}
	}
	if st, _ := db.Inbox().Stats(t.Context()); st.ByState[bot.InDone] != len(users)*6 {
		t.Fatalf("inbox after: %v", st.ByState)
	}
}

// While Yield reports a burst of acknowledgements the processor waits
// before each row; once it clears, the row goes.
func TestProcessorYieldsToAcknowledgements(t *testing.T) {
	db := openProcessorDB(t)
	putRows(t, db, []string{"u1"}, 1)
	var burst atomic.Bool
	burst.Store(true)
	asked := make(chan struct{}, 100)
	h := &orderHandler{order: map[string][]string{}}
	p := &bot.Processor{Inbox: db.Inbox(), Handler: h, Parse: parseUser, Owner: "p",
		MaxYield: time.Hour, // never gives up waiting in this test
		Yield: func() bool {
			select {
			case asked <- struct{}{}:
			default:
			}
			return burst.Load()
		}}
	done := make(chan error, 1)
	go func() { _, err := p.RunOnce(t.Context()); done <- err }()
	for range 2 { // asked twice: it is waiting, not processing
		select {
		case <-asked:
		case <-time.After(10 * time.Second):
			t.Fatal("the processor never asked whether to yield")
		}
	}
	h.mu.Lock()
	handled := len(h.order)
	h.mu.Unlock()
	if handled != 0 {
		t.Fatal("a row was processed during the burst")
	}
	burst.Store(false)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the processor did not go on after the burst")
	}
	if len(h.order["u1"]) != 1 {
		t.Fatalf("handled %v", h.order)
	}
}

// A burst that never ends does not stop processing: each row waits at
// most MaxYield.
func TestProcessorYieldIsBounded(t *testing.T) {
	db := openProcessorDB(t)
	putRows(t, db, []string{"u1", "u2"}, 3)
	var asked atomic.Int32
	h := &orderHandler{order: map[string][]string{}}
	p := &bot.Processor{Inbox: db.Inbox(), Handler: h, Parse: parseUser, Owner: "p",
		MaxYield: 20 * time.Millisecond, Yield: func() bool { asked.Add(1); return true }}
	n, err := p.RunOnce(t.Context())
	if err != nil || n != 6 {
		t.Fatalf("RunOnce = %d, %v", n, err)
	}
	if len(h.order["u1"]) != 3 || len(h.order["u2"]) != 3 {
		t.Fatalf("handled %v", h.order)
	}
	if asked.Load() < 6 {
		t.Fatalf("Yield asked %d times for 6 rows", asked.Load())
	}
}
