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
	"testing"
	"time"

	"gridbot/bot"
	"gridbot/bot/wecom"
	"gridbot/handlers"
	"gridbot/store"
)

type sealed struct {
	q    wecom.Query
	body []byte
}

// sealN prepares n distinct text callbacks, as WeCom would send them.
func sealN(b *testing.B, crypto *wecom.Crypto, n int) []sealed {
	out := make([]sealed, n)
	now := time.Now()
	for i := range out {
		plain := wecom.BuildXML(bot.Inbound{Kind: bot.KindText, MsgType: "text", CorpID: "wwcorp", UserID: "inspector01",
			AgentID: "1000002", CreateTime: now.Truncate(time.Second), MsgID: fmt.Sprint(1_000_000 + i),
			Content: "幸福路菜市场门口有人占道经营，摆摊卖菜，影响通行"})
		q, body, err := crypto.Seal(plain, "1000002", now, fmt.Sprint(i))
		if err != nil {
			b.Fatal(err)
		}
		out[i] = sealed{q, body}
	}
	return out
}

// BenchmarkCallbackBaseline is the bare work of a callback: signature
// check, decrypt and parse, with no store.
func BenchmarkCallbackBaseline(b *testing.B) {
	crypto, _ := wecom.NewCrypto("tok", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wwcorp")
	r := &wecom.Receiver{Crypto: crypto, AgentID: "1000002", Window: 5 * time.Minute}
	msgs := sealN(b, crypto, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := r.Open(msgs[i].q, msgs[i].body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCallbackSQLite is the whole acknowledged path through the Gin
// handler: verify, decrypt, parse and the inbox commit on SQLite (WAL).
func BenchmarkCallbackSQLite(b *testing.B) {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{Driver: store.DriverSQLite, SQLitePath: filepath.Join(b.TempDir(), "b.db"), Migrate: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	crypto, _ := wecom.NewCrypto("tok", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wwcorp")
	srv := &handlers.Server{
		Receiver: &wecom.Receiver{Crypto: crypto, AgentID: "1000002", Window: 5 * time.Minute},
		Crypto:   crypto, Inbox: db.Inbox(), Ping: db.Ping, Clock: bot.ClockFunc(time.Now),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: handlers.NewMetrics(db.Inbox(), db.Outbox()),
	}
	h := srv.Routes()
	msgs := sealN(b, crypto, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest(http.MethodPost, "/wecom/callback?"+msgs[i].q.URLValues().Encode(), strings.NewReader(string(msgs[i].body)))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("answered %d", w.Code)
		}
	}
}
