package bot_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"gridbot/bot"
	"gridbot/store"
)

// brokenKV is a session store that is down.
type brokenKV struct{}

func (brokenKV) Get(context.Context, string) ([]byte, bool, error) {
	return nil, false, bot.Errorf(bot.EUNAVAILABLE, "redis is down")
}
func (brokenKV) Set(context.Context, string, []byte, time.Duration) error {
	return bot.Errorf(bot.EUNAVAILABLE, "redis is down")
}
func (brokenKV) Delete(context.Context, string) error {
	return bot.Errorf(bot.EUNAVAILABLE, "redis is down")
}

type sessionOnly struct{ kv bot.KV }

func (h sessionOnly) Handle(context.Context, bot.Tx, *bot.Delivery) error { return nil }
func (h sessionOnly) Before(ctx context.Context, d *bot.Delivery) error {
	_, _, err := h.kv.Get(ctx, "x")
	return err
}
func (h sessionOnly) After(context.Context, *bot.Delivery) error { return nil }

// An acknowledged callback is never given up because something it needs
// is unavailable: however long the outage, the row waits and then runs.
func TestProcessorNeverDropsOnOutage(t *testing.T) {
	clk := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	db, err := store.Open(context.Background(), store.Options{Driver: store.DriverSQLite,
		SQLitePath: filepath.Join(t.TempDir(), "g.db"), Migrate: true, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.Inbox().Put(ctx, bot.InboxRow{DedupeKey: "msg:1", Kind: bot.KindText, UserID: "u1",
		Payload: []byte("<xml><MsgType>text</MsgType><FromUserName>u1</FromUserName></xml>"), ReceivedAt: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	h := sessionOnly{kv: brokenKV{}}
	p := &bot.Processor{Inbox: db.Inbox(), Handler: h, Owner: "p", MaxAttempts: 3,
		Parse: func([]byte) (bot.Inbound, error) { return bot.Inbound{Kind: bot.KindText, UserID: "u1"}, nil }}
	for i := 0; i < 30; i++ { // far past MaxAttempts, over half an hour
		if _, err := p.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		clk.Add(2 * time.Minute)
	}
	st, _ := db.Inbox().Stats(ctx)
	if st.ByState[bot.InDead] != 0 {
		t.Fatalf("a row went dead during an outage: %v", st.ByState)
	}
	p.Handler = sessionOnly{kv: mustKV(t, db)}
	if _, err := p.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := db.Inbox().Stats(ctx); st.ByState[bot.InDone] != 1 {
		t.Fatalf("after the outage: %v", st.ByState)
	}
}

func mustKV(t *testing.T, db *store.DB) bot.KV {
	kv, err := store.NewSQLKV(db, store.TableSessions)
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

func TestFitBytes(t *testing.T) {
	long := ""
	for i := 0; i < 1000; i++ {
		long += "垃"
	}
	got := bot.FitBytes(long, bot.MaxText)
	if len(got) > bot.MaxText || got[len(got)-len("…"):] != "…" {
		t.Fatalf("FitBytes gave %d bytes", len(got))
	}
	if bot.FitBytes("短", 10) != "短" {
		t.Fatal("a short text changed")
	}
}
