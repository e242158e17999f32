package handlers_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gridbot/bot"
	"gridbot/bot/classify"
	"gridbot/bot/roster"
	"gridbot/bot/wecom"
	"gridbot/bot/wecom/wecomfake"
	"gridbot/handlers"
	"gridbot/store"
	"gridbot/templates"
)

// downInbox is the real inbox with a switch that makes commits fail, as a
// database that went away would.
type downInbox struct {
	bot.Inbox
	down atomic.Bool
}

func (d *downInbox) Put(ctx context.Context, row bot.InboxRow) (bool, error) {
	if d.down.Load() {
		return false, bot.Errorf(bot.EUNAVAILABLE, "database is down")
	}
	return d.Inbox.Put(ctx, row)
}

// While the store cannot commit, callbacks get 500 so WeCom retries; once it
// is back, the retried callback is processed exactly once.
func TestStoreDownAnswers500ThenProcessesOnce(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{Driver: store.DriverSQLite, SQLitePath: filepath.Join(t.TempDir(), "g.db"), Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	crypto, err := wecom.NewCrypto("tok", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wwcorp")
	if err != nil {
		t.Fatal(err)
	}
	inbox := &downInbox{Inbox: db.Inbox()}
	clock := bot.ClockFunc(time.Now)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := &handlers.Server{
		Receiver: &wecom.Receiver{Crypto: crypto, AgentID: "1000002", Window: 5 * time.Minute},
		Crypto:   crypto, Inbox: inbox, Ping: db.Ping, Clock: clock, Log: log,
		Metrics: handlers.NewMetrics(db.Inbox(), db.Outbox()),
	}
	ts := httptest.NewServer(srv.Routes())
	defer ts.Close()

	plain := wecom.BuildXML(bot.Inbound{Kind: bot.KindText, MsgType: "text", CorpID: "wwcorp", UserID: "u1",
		AgentID: "1000002", CreateTime: time.Now().Truncate(time.Second), MsgID: "777", Content: "路灯坏了"})
	deliver := func() int {
		q, body, err := crypto.Seal(plain, "1000002", time.Now(), fmt.Sprint(time.Now().UnixNano()))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Post(ts.URL+"/wecom/callback?"+q.URLValues().Encode(), "text/xml", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	inbox.down.Store(true)
	for i := 0; i < 2; i++ { // WeCom's retries while the store is down
		if code := deliver(); code != http.StatusInternalServerError {
			t.Fatalf("delivery %d while down answered %d, want 500", i, code)
		}
	}
	if st, _ := db.Inbox().Stats(ctx); st.ByState[bot.InNew] != 0 {
		t.Fatalf("a row was written while the store was down: %v", st.ByState)
	}
	inbox.down.Store(false)
	if code := deliver(); code != http.StatusOK {
		t.Fatalf("delivery after recovery answered %d", code)
	}
	if code := deliver(); code != http.StatusOK { // a late retry of the same message
		t.Fatalf("late retry answered %d", code)
	}

	// Process and send everything there is.
	fake := wecomfake.New(wecomfake.Options{CorpID: "wwcorp", CorpSecret: "s", AgentID: 1000002})
	api := httptest.NewServer(fake)
	defer api.Close()
	tokens, _ := store.NewSQLKV(db, "token_cache")
	classifier, err := classify.Load()
	if err != nil {
		t.Fatal(err)
	}
	sessions, _ := store.NewSQLKV(db, store.TableSessions)
	service := &bot.Service{T: templates.MustLoad(), Roster: roster.Demo(), Classifier: classifier, Sessions: sessions, Policy: bot.DefaultPolicy()}
	proc := &bot.Processor{Inbox: db.Inbox(), Handler: service, Parse: wecom.Parse, Owner: "t"}
	disp := &bot.Dispatcher{Outbox: db.Outbox(), Limiter: db.RateLimiter(), Owner: "t",
		Sender: wecom.NewClient(wecom.ClientOptions{BaseURL: api.URL, CorpID: "wwcorp", AgentID: 1000002, Secret: "s", Tokens: tokens})}
	if n, err := proc.RunOnce(ctx); err != nil || n != 1 {
		t.Fatalf("processor took %d rows (%v), want 1", n, err)
	}
	if n, err := disp.RunOnce(ctx); err != nil || n != 1 {
		t.Fatalf("dispatcher took %d items (%v), want 1", n, err)
	}
	if n, _ := proc.RunOnce(ctx); n != 0 {
		t.Fatalf("processor found %d more rows", n)
	}
	if got := len(fake.Messages("u1")); got != 1 || !strings.Contains(string(fake.Messages("u1")[0].Body), "不在本系统名单") {
		t.Fatalf("u1 (not on the roster) got %d replies, want the one polite line: %+v", got, fake.Messages("u1"))
	}
}
