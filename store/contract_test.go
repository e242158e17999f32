package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"gridbot/bot"
)

// The contract suite: every implementation of bot's storage interfaces runs
// these. SQL stores run on SQLite always and on MySQL/MariaDB when
// GRIDBOT_TEST_MYSQL_DSN is set; the key-value stores also on miniredis and,
// with GRIDBOT_TEST_REDIS_ADDR, on Redis.

func TestInboxContract(t *testing.T)       { forEachSQL(t, testInbox) }
func TestOutboxContract(t *testing.T)      { forEachSQL(t, testOutbox) }
func TestRateLimiterContract(t *testing.T) { forEachSQL(t, testRateLimiter) }
func TestLeasesContract(t *testing.T)      { forEachSQL(t, testLeases) }
func TestKVContract(t *testing.T)          { forEachKV(t, testKV) }

func inboxRow(key string) bot.InboxRow {
	return bot.InboxRow{
		DedupeKey: key,
		Kind:      bot.KindText,
		UserID:    "zhangsan",
		Payload:   []byte("<xml><MsgId>" + key + "</MsgId></xml>"),
	}
}

// claimOne claims with limit 1 and expects exactly one row.
func claimOne(t *testing.T, in bot.Inbox, owner string, lease time.Duration) bot.InboxRow {
	t.Helper()
	rows, err := in.Claim(t.Context(), owner, lease, 1)
	must(t, err)
	if len(rows) != 1 {
		t.Fatalf("Claim(%s) = %d rows, want 1", owner, len(rows))
	}
	return rows[0]
}

// claimNone expects Claim to find nothing.
func claimNone(t *testing.T, in bot.Inbox, owner string) {
	t.Helper()
	rows, err := in.Claim(t.Context(), owner, time.Minute, 10)
	must(t, err)
	if len(rows) != 0 {
		t.Fatalf("Claim(%s) = %d rows (first %+v), want none", owner, len(rows), rows[0])
	}
}

func testInbox(t *testing.T, open opener) {
	t.Run("put dedupes", func(t *testing.T) {
		e := open(t)
		in := e.db.Inbox()
		row := inboxRow("msg-1")
		ins, err := in.Put(t.Context(), row)
		must(t, err)
		if !ins {
			t.Fatal("first Put: inserted = false")
		}
		row.Payload = []byte("changed")
		ins, err = in.Put(t.Context(), row)
		must(t, err)
		if ins {
			t.Fatal("second Put of the same key: inserted = true")
		}
		st, err := in.Stats(t.Context())
		must(t, err)
		if st.ByState[bot.InNew] != 1 || len(st.ByState) != 1 {
			t.Fatalf("ByState = %v, want one new row", st.ByState)
		}
		got := claimOne(t, in, "w1", time.Minute)
		want := inboxRow("msg-1")
		if got.DedupeKey != want.DedupeKey || got.Kind != want.Kind || got.UserID != want.UserID ||
			!bytes.Equal(got.Payload, want.Payload) {
			t.Fatalf("claimed %+v, want the first Put's %+v", got, want)
		}
		if !got.ReceivedAt.Equal(e.clock.Now()) || got.State != bot.InWorking || got.Attempts != 1 ||
			!got.LeaseExpiry.Equal(e.clock.Now().Add(time.Minute)) || !strings.HasPrefix(got.LeaseOwner, "w1") {
			t.Fatalf("claimed row %+v: wrong received_at, state, attempts or lease", got)
		}
	})

	t.Run("put rejects an empty key", func(t *testing.T) {
		e := open(t)
		_, err := e.db.Inbox().Put(t.Context(), inboxRow(""))
		wantCode(t, err, bot.EINVALID)
	})

	t.Run("concurrent put of one key inserts once", func(t *testing.T) {
		e := open(t)
		in := e.db.Inbox()
		const n = 3
		var (
			wg       sync.WaitGroup
			start    = make(chan struct{})
			inserted = make([]bool, n)
			errs     = make([]error, n)
		)
		for i := range n {
			wg.Go(func() {
				<-start
				inserted[i], errs[i] = in.Put(context.Background(), inboxRow("dup"))
			})
		}
		close(start)
		wg.Wait()
		count := 0
		for i := range n {
			must(t, errs[i])
			if inserted[i] {
				count++
			}
		}
		if count != 1 {
			t.Fatalf("%d of %d concurrent Puts inserted, want exactly 1", count, n)
		}
		st, err := in.Stats(t.Context())
		must(t, err)
		if st.ByState[bot.InNew] != 1 {
			t.Fatalf("ByState = %v, want 1 new", st.ByState)
		}
	})

	t.Run("claim takes the oldest first up to the limit", func(t *testing.T) {
		e := open(t)
		in := e.db.Inbox()
		for i := range 5 {
			row := inboxRow(fmt.Sprint("m", i))
			// Arrival order differs from insertion (id) order.
			row.ReceivedAt = e.clock.Now().Add(time.Duration(5-i) * time.Second)
			_, err := in.Put(t.Context(), row)
			must(t, err)
		}
		rows, err := in.Claim(t.Context(), "w", time.Minute, 2)
		must(t, err)
		if len(rows) != 2 || rows[0].DedupeKey != "m4" || rows[1].DedupeKey != "m3" {
			t.Fatalf("Claim = %v, want m4 and m3 (the oldest)", keysOf(rows))
		}
		_, err = in.Claim(t.Context(), "w", time.Minute, 0)
		wantCode(t, err, bot.EINVALID)
		_, err = in.Claim(t.Context(), "", time.Minute, 1)
		wantCode(t, err, bot.EINVALID)
	})

	t.Run("concurrent claims never share a row", func(t *testing.T) {
		e := open(t)
		in := e.db.Inbox()
		const total = 30
		for i := range total {
			_, err := in.Put(t.Context(), inboxRow(fmt.Sprint("c", i)))
			must(t, err)
		}
		owners := []string{"worker-a", "worker-b", "worker-a"} // the same name twice, too
		got := make([][]bot.InboxRow, len(owners))
		errs := make([]error, len(owners))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, owner := range owners {
			wg.Go(func() {
				<-start
				for {
					rows, err := in.Claim(context.Background(), owner, time.Minute, 3)
					if err != nil {
						errs[i] = err
						return
					}
					if len(rows) == 0 {
						return
					}
					got[i] = append(got[i], rows...)
				}
			})
		}
		close(start)
		wg.Wait()
		seen := map[int64]string{}
		for i := range owners {
			must(t, errs[i])
			for _, r := range got[i] {
				if prev, dup := seen[r.ID]; dup {
					t.Fatalf("row %d claimed twice: by %s and %s", r.ID, prev, r.LeaseOwner)
				}
				seen[r.ID] = r.LeaseOwner
			}
		}
		if len(seen) != total {
			t.Fatalf("claimed %d distinct rows, want %d", len(seen), total)
		}
	})

	t.Run("an expired lease is reclaimed", func(t *testing.T) {
		e := open(t)
		in := e.db.Inbox()
		_, err := in.Put(t.Context(), inboxRow("m"))
		must(t, err)
		a := claimOne(t, in, "a", 30*time.Second)
		claimNone(t, in, "b")
		e.clock.Advance(30 * time.Second)
		claimNone(t, in, "b") // lease_until < now: not yet at the exact instant
		e.clock.Advance(time.Millisecond)
		b := claimOne(t, in, "b", 30*time.Second)
		if b.ID != a.ID || b.Attempts != 2 {
			t.Fatalf("reclaimed row %d with %d attempts, want row %d with 2", b.ID, b.Attempts, a.ID)
		}
		wantCode(t, in.Complete(t.Context(), a, nil), bot.ECONFLICT)
		wantCode(t, in.Fail(t.Context(), a, "late", time.Second, false), bot.ECONFLICT)
		must(t, in.Complete(t.Context(), b, nil))
	})

	t.Run("complete commits outbox rows and done together", func(t *testing.T) {
		e := open(t)
		in := e.db.Inbox()
		_, err := in.Put(t.Context(), inboxRow("m"))
		must(t, err)
		row := claimOne(t, in, "w", time.Minute)
		var txNow time.Time
		err = in.Complete(t.Context(), row, func(tx bot.Tx) error {
			txNow = tx.Now()
			return tx.Enqueue(t.Context(),
				bot.NewTextMessage("reply:m", "zhangsan", "收到"),
				bot.NewTextMessage("notify:m", "lisi", "new case"),
				bot.NewTextMessage("reply:m", "zhangsan", "a duplicate key is skipped"))
		})
		must(t, err)
		if !txNow.Equal(e.clock.Now()) {
			t.Fatalf("Tx.Now = %v, want the clock's %v", txNow, e.clock.Now())
		}
		items, err := e.db.Outbox().List(t.Context(), bot.OutPending, 10)
		must(t, err)
		if len(items) != 2 {
			t.Fatalf("outbox has %d pending items, want 2", len(items))
		}
		st, err := in.Stats(t.Context())
		must(t, err)
		if st.ByState[bot.InDone] != 1 || st.OldestUndone != 0 {
			t.Fatalf("stats %+v, want one done row and nothing waiting", st)
		}
		// Done rows are not claimed again, and a second Complete conflicts.
		claimNone(t, in, "w")
		wantCode(t, in.Complete(t.Context(), row, nil), bot.ECONFLICT)
	})

	t.Run("complete with a stolen lease changes nothing", func(t *testing.T) {
		e := open(t)
		in := e.db.Inbox()
		_, err := in.Put(t.Context(), inboxRow("m"))
		must(t, err)
		a := claimOne(t, in, "a", time.Second)
		e.clock.Advance(2 * time.Second)
		b := claimOne(t, in, "b", time.Minute)
		err = in.Complete(t.Context(), a, func(tx bot.Tx) error {
			return tx.Enqueue(t.Context(), bot.NewTextMessage("from-a", "u", "x"))
		})
		wantCode(t, err, bot.ECONFLICT)
		depth, err := e.db.Outbox().Depth(t.Context())
		must(t, err)
		if len(depth) != 0 {
			t.Fatalf("outbox depth %v after a conflicting Complete, want empty", depth)
		}
		// An error from fn rolls back its outbox rows and keeps the lease.
		boom := errors.New("boom")
		err = in.Complete(t.Context(), b, func(tx bot.Tx) error {
			if err := tx.Enqueue(t.Context(), bot.NewTextMessage("from-b", "u", "x")); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Complete = %v, want fn's error", err)
		}
		depth, err = e.db.Outbox().Depth(t.Context())
		must(t, err)
		if len(depth) != 0 {
			t.Fatalf("outbox depth %v after fn failed, want empty", depth)
		}
		must(t, in.Complete(t.Context(), b, func(tx bot.Tx) error {
			return tx.Enqueue(t.Context(), bot.NewTextMessage("from-b", "u", "x"))
		}))
		depth, err = e.db.Outbox().Depth(t.Context())
		must(t, err)
		if depth[bot.OutPending] != 1 {
			t.Fatalf("outbox depth %v, want 1 pending", depth)
		}
	})

	t.Run("fail with retry waits out the delay", func(t *testing.T) {
		e := open(t)
		in := e.db.Inbox()
		_, err := in.Put(t.Context(), inboxRow("m"))
		must(t, err)
		row := claimOne(t, in, "w", time.Minute)
		long := strings.Repeat("错", 1500)
		must(t, in.Fail(t.Context(), row, long, 10*time.Second, false))
		claimNone(t, in, "w")
		e.clock.Advance(10 * time.Second)
		claimNone(t, in, "w")
		e.clock.Advance(time.Millisecond)
		again := claimOne(t, in, "w", time.Minute)
		if again.ID != row.ID || again.Attempts != 2 {
			t.Fatalf("retried row %d, %d attempts; want row %d, 2 attempts", again.ID, again.Attempts, row.ID)
		}
		if again.LastError != strings.Repeat("错", 1000) {
			t.Fatalf("last error has %d characters, want the first 1000", len([]rune(again.LastError)))
		}
		// The old claim's token no longer holds the row.
		wantCode(t, in.Fail(t.Context(), row, "stale", time.Second, false), bot.ECONFLICT)
	})

	t.Run("fail dead", func(t *testing.T) {
		e := open(t)
		in := e.db.Inbox()
		_, err := in.Put(t.Context(), inboxRow("m"))
		must(t, err)
		row := claimOne(t, in, "w", time.Minute)
		must(t, in.Fail(t.Context(), row, "bad xml", 0, true))
		e.clock.Advance(24 * time.Hour)
		claimNone(t, in, "w")
		st, err := in.Stats(t.Context())
		must(t, err)
		if st.ByState[bot.InDead] != 1 || st.OldestUndone != 0 {
			t.Fatalf("stats %+v, want one dead row and nothing waiting", st)
		}
		wantCode(t, in.Fail(t.Context(), row, "again", 0, true), bot.ECONFLICT)
		wantCode(t, in.Complete(t.Context(), row, nil), bot.ECONFLICT)
	})

	t.Run("stats give the age of the oldest unfinished row", func(t *testing.T) {
		e := open(t)
		in := e.db.Inbox()
		_, err := in.Put(t.Context(), inboxRow("old"))
		must(t, err)
		e.clock.Advance(5 * time.Minute)
		_, err = in.Put(t.Context(), inboxRow("new"))
		must(t, err)
		e.clock.Advance(time.Minute)
		st, err := in.Stats(t.Context())
		must(t, err)
		if st.OldestUndone != 6*time.Minute || st.ByState[bot.InNew] != 2 {
			t.Fatalf("stats %+v, want 2 new and the oldest 6m old", st)
		}
		row := claimOne(t, in, "w", time.Minute)
		st, err = in.Stats(t.Context())
		must(t, err)
		if st.OldestUndone != 6*time.Minute || st.ByState[bot.InWorking] != 1 {
			t.Fatalf("stats %+v, want a working row still counted 6m old", st)
		}
		must(t, in.Complete(t.Context(), row, nil))
		st, err = in.Stats(t.Context())
		must(t, err)
		if st.OldestUndone != time.Minute {
			t.Fatalf("OldestUndone = %v, want 1m", st.OldestUndone)
		}
	})
}

func keysOf(rows []bot.InboxRow) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.DedupeKey)
	}
	return out
}

// claimItems claims up to 10 outbox items.
func claimItems(t *testing.T, o bot.Outbox, owner string, lease time.Duration) []bot.OutboxItem {
	t.Helper()
	items, err := o.Claim(t.Context(), owner, lease, 10)
	must(t, err)
	return items
}

func getItem(t *testing.T, o bot.Outbox, id int64) bot.OutboxItem {
	t.Helper()
	it, err := o.Get(t.Context(), id)
	must(t, err)
	return it
}

func testOutbox(t *testing.T, open opener) {
	t.Run("enqueue skips a key that exists", func(t *testing.T) {
		e := open(t)
		o := e.db.Outbox()
		first := bot.NewTextMessage("digest:chat1:2025-03-03", "u1", "first")
		must(t, o.Enqueue(t.Context(), first))
		must(t, o.Enqueue(t.Context(), bot.NewTextMessage("digest:chat1:2025-03-03", "u1", "second"),
			bot.NewTextMessage("digest:chat1:2025-03-03", "u1", "third")))
		items, err := o.List(t.Context(), "", 10)
		must(t, err)
		if len(items) != 1 || !bytes.Equal(items[0].Payload, first.Payload) {
			t.Fatalf("outbox = %+v, want only the first item", items)
		}
		it := items[0]
		now := e.clock.Now()
		if it.State != bot.OutPending || it.Attempts != 0 || !it.NextAt.Equal(now) || !it.CreatedAt.Equal(now) ||
			it.Kind != bot.OutMessage || it.Recipient != "user:u1" || !it.SentAt.IsZero() || it.LeaseOwner != "" {
			t.Fatalf("enqueued item %+v: wrong fields", it)
		}
		// Empty keys get distinct random ones.
		must(t, o.Enqueue(t.Context(), bot.NewTextMessage("", "u2", "a"), bot.NewTextMessage("", "u2", "b")))
		depth, err := o.Depth(t.Context())
		must(t, err)
		if depth[bot.OutPending] != 3 {
			t.Fatalf("depth %v, want 3 pending", depth)
		}
		wantCode(t, o.Enqueue(t.Context(), bot.OutboxItem{Key: "no-kind"}), bot.EINVALID)
	})

	t.Run("claim takes due items only", func(t *testing.T) {
		e := open(t)
		o := e.db.Outbox()
		later := bot.NewTextMessage("later", "u", "x")
		later.NextAt = e.clock.Now().Add(time.Minute)
		past := bot.NewTextMessage("past", "u", "x")
		past.NextAt = e.clock.Now().Add(-time.Hour) // due now, not in the past
		must(t, o.Enqueue(t.Context(), later, past))
		items := claimItems(t, o, "d", time.Minute)
		if len(items) != 1 || items[0].Key != "past" || !items[0].NextAt.Equal(e.clock.Now()) {
			t.Fatalf("claimed %+v, want only 'past', due now", items)
		}
		if items[0].State != bot.OutSending || items[0].Attempts != 0 ||
			!items[0].LeaseExpiry.Equal(e.clock.Now().Add(time.Minute)) {
			t.Fatalf("claimed item %+v: want sending, no attempt counted, leased for 1m", items[0])
		}
		if got := claimItems(t, o, "d", time.Minute); len(got) != 0 {
			t.Fatalf("second claim got %d items, want none", len(got))
		}
		e.clock.Advance(time.Minute)
		items = claimItems(t, o, "d", time.Minute)
		if len(items) != 1 || items[0].Key != "later" {
			t.Fatalf("claimed %+v after a minute, want 'later'", items)
		}
	})

	t.Run("retry, defer and dead", func(t *testing.T) {
		e := open(t)
		o := e.db.Outbox()
		must(t, o.Enqueue(t.Context(), bot.NewTextMessage("k", "u", "x")))
		it := claimItems(t, o, "d", time.Minute)[0]

		must(t, o.Retry(t.Context(), it, 45009, "api freq out of limit", e.clock.Now().Add(30*time.Second)))
		got := getItem(t, o, it.ID)
		if got.State != bot.OutPending || got.Attempts != 1 || got.ErrCode != 45009 ||
			got.LastError != "api freq out of limit" || !got.NextAt.Equal(e.clock.Now().Add(30*time.Second)) ||
			got.LeaseOwner != "" {
			t.Fatalf("after Retry: %+v", got)
		}
		if items := claimItems(t, o, "d", time.Minute); len(items) != 0 {
			t.Fatalf("claimed %d items before the retry time", len(items))
		}
		e.clock.Advance(30 * time.Second)
		it = claimItems(t, o, "d", time.Minute)[0]
		if it.Attempts != 1 {
			t.Fatalf("claim changed attempts to %d, want 1", it.Attempts)
		}

		must(t, o.Defer(t.Context(), it, e.clock.Now().Add(10*time.Second)))
		got = getItem(t, o, it.ID)
		if got.State != bot.OutPending || got.Attempts != 1 || !got.NextAt.Equal(e.clock.Now().Add(10*time.Second)) {
			t.Fatalf("after Defer: %+v, want pending, still 1 attempt, due in 10s", got)
		}
		// The deferred claim's token is spent.
		wantCode(t, o.MarkSent(t.Context(), it, nil), bot.ECONFLICT)
		e.clock.Advance(10 * time.Second)
		it = claimItems(t, o, "d", time.Minute)[0]

		must(t, o.Dead(t.Context(), it, 40003, "invalid userid"))
		got = getItem(t, o, it.ID)
		if got.State != bot.OutDead || got.Attempts != 2 || got.ErrCode != 40003 || got.LastError != "invalid userid" {
			t.Fatalf("after Dead: %+v, want dead, 2 attempts, errcode 40003", got)
		}
		e.clock.Advance(time.Hour)
		if items := claimItems(t, o, "d", time.Minute); len(items) != 0 {
			t.Fatalf("claimed a dead item")
		}
		depth, err := o.Depth(t.Context())
		must(t, err)
		if depth[bot.OutDead] != 1 || len(depth) != 1 {
			t.Fatalf("depth %v, want 1 dead", depth)
		}
	})

	t.Run("mark sent", func(t *testing.T) {
		e := open(t)
		o := e.db.Outbox()
		must(t, o.Enqueue(t.Context(), bot.NewTextMessage("k", "u", "x")))
		it := claimItems(t, o, "d", time.Minute)[0]
		e.clock.Advance(time.Second)
		result := []byte(`{"msgid":"abc"}`)
		must(t, o.MarkSent(t.Context(), it, result))
		got := getItem(t, o, it.ID)
		if got.State != bot.OutSent || !bytes.Equal(got.Result, result) || !got.SentAt.Equal(e.clock.Now()) ||
			got.Attempts != 0 {
			t.Fatalf("after MarkSent: %+v", got)
		}
		wantCode(t, o.MarkSent(t.Context(), it, result), bot.ECONFLICT)
		wantCode(t, o.Retry(t.Context(), it, -1, "x", e.clock.Now()), bot.ECONFLICT)
		if items := claimItems(t, o, "d", time.Minute); len(items) != 0 {
			t.Fatalf("claimed a sent item")
		}
	})

	t.Run("a lost lease conflicts", func(t *testing.T) {
		e := open(t)
		o := e.db.Outbox()
		must(t, o.Enqueue(t.Context(), bot.NewTextMessage("k", "u", "x")))
		a := claimItems(t, o, "a", 10*time.Second)[0]
		e.clock.Advance(10*time.Second + time.Millisecond)
		b := claimItems(t, o, "b", 10*time.Second)[0]
		if a.ID != b.ID {
			t.Fatalf("b claimed item %d, want the expired %d", b.ID, a.ID)
		}
		wantCode(t, o.MarkSent(t.Context(), a, nil), bot.ECONFLICT)
		wantCode(t, o.Retry(t.Context(), a, -1, "timeout", e.clock.Now()), bot.ECONFLICT)
		wantCode(t, o.Defer(t.Context(), a, e.clock.Now()), bot.ECONFLICT)
		wantCode(t, o.Dead(t.Context(), a, 1, "x"), bot.ECONFLICT)
		must(t, o.MarkSent(t.Context(), b, nil))
		if got := getItem(t, o, b.ID); got.Attempts != 0 || got.State != bot.OutSent {
			t.Fatalf("item %+v, want sent with no attempts counted", got)
		}
	})

	t.Run("concurrent claims never share an item", func(t *testing.T) {
		e := open(t)
		o := e.db.Outbox()
		const total = 30
		for i := range total {
			must(t, o.Enqueue(t.Context(), bot.NewTextMessage(fmt.Sprint("k", i), "u", "x")))
		}
		got := make([][]bot.OutboxItem, 2)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 2 {
			wg.Go(func() {
				<-start
				for {
					items, err := o.Claim(context.Background(), fmt.Sprint("d", i), time.Minute, 4)
					if err != nil {
						errs[i] = err
						return
					}
					if len(items) == 0 {
						return
					}
					got[i] = append(got[i], items...)
				}
			})
		}
		close(start)
		wg.Wait()
		seen := map[int64]bool{}
		for i := range 2 {
			must(t, errs[i])
			for _, it := range got[i] {
				if seen[it.ID] {
					t.Fatalf("item %d claimed twice", it.ID)
				}
				seen[it.ID] = true
			}
		}
		if len(seen) != total {
			t.Fatalf("claimed %d distinct items, want %d", len(seen), total)
		}
	})

	t.Run("get, list and depth", func(t *testing.T) {
		e := open(t)
		o := e.db.Outbox()
		_, err := o.Get(t.Context(), 12345)
		wantCode(t, err, bot.ENOTFOUND)
		for i := range 3 {
			must(t, o.Enqueue(t.Context(), bot.NewTextMessage(fmt.Sprint("k", i), "u", "x")))
			e.clock.Advance(time.Second)
		}
		claimed, err := o.Claim(t.Context(), "d", time.Minute, 1)
		must(t, err)
		if len(claimed) != 1 || claimed[0].Key != "k0" {
			t.Fatalf("claimed %+v, want k0 alone", claimed)
		}
		it := claimed[0]
		must(t, o.MarkSent(t.Context(), it, nil))
		all, err := o.List(t.Context(), "", 0)
		must(t, err)
		if len(all) != 3 || all[0].Key != "k0" || all[1].Key != "k1" || all[2].Key != "k2" {
			t.Fatalf("List all = %d items, want k0, k1, k2 oldest first", len(all))
		}
		pending, err := o.List(t.Context(), bot.OutPending, 1)
		must(t, err)
		if len(pending) != 1 || pending[0].Key != "k1" {
			t.Fatalf("List pending limit 1 = %+v, want k1", pending)
		}
		depth, err := o.Depth(t.Context())
		must(t, err)
		if depth[bot.OutPending] != 2 || depth[bot.OutSent] != 1 || len(depth) != 2 {
			t.Fatalf("depth %v, want 2 pending and 1 sent", depth)
		}
	})
}

func testRateLimiter(t *testing.T, open opener) {
	const window = 60 * time.Second
	acquire := func(t *testing.T, rl bot.RateLimiter, key string, limit int) (bool, time.Time) {
		t.Helper()
		ok, at, err := rl.Acquire(t.Context(), key, limit, window)
		must(t, err)
		return ok, at
	}

	t.Run("three a minute", func(t *testing.T) {
		e := open(t)
		rl := e.db.RateLimiter()
		first := e.clock.Now()
		for i := range 3 {
			if ok, _ := acquire(t, rl, "user:u1", 3); !ok {
				t.Fatalf("acquire %d refused", i+1)
			}
		}
		ok, retryAt := acquire(t, rl, "user:u1", 3)
		if ok || !retryAt.Equal(first.Add(window)) {
			t.Fatalf("4th acquire = %v, %v; want refused until %v", ok, retryAt, first.Add(window))
		}
		// Another key has its own slots.
		if ok, _ := acquire(t, rl, "user:u2", 3); !ok {
			t.Fatal("another key refused")
		}
		e.clock.Advance(window - time.Millisecond)
		if ok, _ := acquire(t, rl, "user:u1", 3); ok {
			t.Fatal("acquired before the window passed")
		}
		e.clock.Advance(time.Millisecond)
		for i := range 3 {
			if ok, _ := acquire(t, rl, "user:u1", 3); !ok {
				t.Fatalf("acquire %d after the window refused", i+1)
			}
		}
		if ok, _ := acquire(t, rl, "user:u1", 3); ok {
			t.Fatal("4th acquire in the new window admitted")
		}
	})

	t.Run("the window slides", func(t *testing.T) {
		e := open(t)
		rl := e.db.RateLimiter()
		t0 := e.clock.Now()
		for i := range 3 {
			if ok, _ := acquire(t, rl, "robot:ops", 3); !ok {
				t.Fatalf("acquire at +%ds refused", 20*i)
			}
			e.clock.Advance(20 * time.Second)
		}
		// now t0+60s: the slot taken at t0 is free again, the others not.
		if ok, _ := acquire(t, rl, "robot:ops", 3); !ok {
			t.Fatal("acquire at +60s refused")
		}
		ok, retryAt := acquire(t, rl, "robot:ops", 3)
		if ok || !retryAt.Equal(t0.Add(20*time.Second+window)) {
			t.Fatalf("acquire = %v, %v; want refused until %v", ok, retryAt, t0.Add(20*time.Second+window))
		}
	})

	t.Run("a higher limit adds slots", func(t *testing.T) {
		e := open(t)
		rl := e.db.RateLimiter()
		for range 2 {
			acquire(t, rl, "k", 2)
		}
		if ok, _ := acquire(t, rl, "k", 2); ok {
			t.Fatal("3rd acquire under limit 2 admitted")
		}
		if ok, _ := acquire(t, rl, "k", 3); !ok {
			t.Fatal("acquire under the raised limit 3 refused")
		}
		if ok, _ := acquire(t, rl, "k", 3); ok {
			t.Fatal("4th acquire under limit 3 admitted")
		}
		if ok, _ := acquire(t, rl, "k", 1); ok {
			t.Fatal("acquire under the lowered limit 1 admitted")
		}
	})

	t.Run("invalid arguments", func(t *testing.T) {
		e := open(t)
		rl := e.db.RateLimiter()
		_, _, err := rl.Acquire(t.Context(), "k", 0, window)
		wantCode(t, err, bot.EINVALID)
		_, _, err = rl.Acquire(t.Context(), "k", 1, 0)
		wantCode(t, err, bot.EINVALID)
		_, _, err = rl.Acquire(t.Context(), "", 1, window)
		wantCode(t, err, bot.EINVALID)
	})

	t.Run("concurrent acquires never exceed the limit", func(t *testing.T) {
		e := open(t)
		rl := e.db.RateLimiter()
		const limit, goroutines, each = 5, 2, 40
		for round := range 3 {
			var (
				wg    sync.WaitGroup
				mu    sync.Mutex
				won   int
				first error
			)
			start := make(chan struct{})
			for range goroutines {
				wg.Go(func() {
					<-start
					for range each {
						ok, _, err := rl.Acquire(context.Background(), "app", limit, window)
						mu.Lock()
						if err != nil && first == nil {
							first = err
						}
						if ok {
							won++
						}
						mu.Unlock()
					}
				})
			}
			close(start)
			wg.Wait()
			must(t, first)
			if won != limit {
				t.Fatalf("round %d: %d acquisitions in one window, want exactly %d", round, won, limit)
			}
			e.clock.Advance(window)
		}
	})
}

func testLeases(t *testing.T, open opener) {
	const ttl = 30 * time.Second
	acquire := func(t *testing.T, l bot.Leases, owner string) (bool, int64) {
		t.Helper()
		ok, epoch, err := l.Acquire(t.Context(), "scheduler", owner, ttl)
		must(t, err)
		return ok, epoch
	}

	t.Run("one holder, fenced by the epoch", func(t *testing.T) {
		e := open(t)
		l := e.db.Leases()
		ok, epochA := acquire(t, l, "a")
		if !ok || epochA < 1 {
			t.Fatalf("a: ok=%v epoch=%d, want the lease with epoch >= 1", ok, epochA)
		}
		if ok, _ := acquire(t, l, "b"); ok {
			t.Fatal("b took a's lease")
		}
		// Renewing, even within the same millisecond, keeps the epoch.
		if ok, epoch := acquire(t, l, "a"); !ok || epoch != epochA {
			t.Fatalf("a renews: ok=%v epoch=%d, want true, %d", ok, epoch, epochA)
		}
		e.clock.Advance(ttl - time.Second)
		if ok, epoch := acquire(t, l, "a"); !ok || epoch != epochA {
			t.Fatalf("a renews later: ok=%v epoch=%d, want true, %d", ok, epoch, epochA)
		}
		e.clock.Advance(ttl) // a's renewed lease ends exactly now
		if ok, _ := acquire(t, l, "b"); ok {
			t.Fatal("b took the lease at the very instant it ends")
		}
		e.clock.Advance(time.Millisecond)
		ok, epochB := acquire(t, l, "b")
		if !ok || epochB <= epochA {
			t.Fatalf("b after expiry: ok=%v epoch=%d, want true and > %d", ok, epochB, epochA)
		}
		if ok, _ := acquire(t, l, "a"); ok {
			t.Fatal("a took b's lease back")
		}
		must(t, l.Release(t.Context(), "scheduler", "a")) // not a's: no effect
		if ok, _ := acquire(t, l, "c"); ok {
			t.Fatal("c took the lease after a non-holder released it")
		}
		must(t, l.Release(t.Context(), "scheduler", "b"))
		ok, epochC := acquire(t, l, "c")
		if !ok || epochC <= epochB {
			t.Fatalf("c after b released: ok=%v epoch=%d, want true and > %d", ok, epochC, epochB)
		}
		// Names are independent.
		if ok, _, err := l.Acquire(t.Context(), "other", "a", ttl); err != nil || !ok {
			t.Fatalf("a on another name: %v, %v", ok, err)
		}
	})

	t.Run("concurrent first acquire elects one", func(t *testing.T) {
		e := open(t)
		l := e.db.Leases()
		const n = 5
		oks := make([]bool, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				oks[i], _, errs[i] = l.Acquire(context.Background(), "leader", fmt.Sprint("node", i), ttl)
			})
		}
		close(start)
		wg.Wait()
		count := 0
		for i := range n {
			must(t, errs[i])
			if oks[i] {
				count++
			}
		}
		if count != 1 {
			t.Fatalf("%d concurrent acquirers hold the lease, want 1", count)
		}
	})

	t.Run("invalid arguments", func(t *testing.T) {
		e := open(t)
		l := e.db.Leases()
		_, _, err := l.Acquire(t.Context(), "x", "", ttl)
		wantCode(t, err, bot.EINVALID)
		_, _, err = l.Acquire(t.Context(), "x", "a", 0)
		wantCode(t, err, bot.EINVALID)
	})
}

func testKV(t *testing.T, h kvHarness) {
	ctx := t.Context()
	kv := h.kv
	get := func(key string) ([]byte, bool) {
		t.Helper()
		v, ok, err := kv.Get(ctx, key)
		must(t, err)
		return v, ok
	}

	if _, ok := get("missing"); ok {
		t.Fatal("a missing key was found")
	}
	must(t, kv.Delete(ctx, "missing"))

	must(t, kv.Set(ctx, "draft:u1", []byte(`{"photos":1}`), time.Hour))
	if v, ok := get("draft:u1"); !ok || string(v) != `{"photos":1}` {
		t.Fatalf("Get = %q, %v", v, ok)
	}
	must(t, kv.Set(ctx, "draft:u1", []byte(`{"photos":2}`), time.Minute))
	if v, ok := get("draft:u1"); !ok || string(v) != `{"photos":2}` {
		t.Fatalf("Get after overwrite = %q, %v", v, ok)
	}
	must(t, kv.Set(ctx, "forever", []byte("x"), 0))
	must(t, kv.Set(ctx, "empty", nil, time.Hour))
	if v, ok := get("empty"); !ok || len(v) != 0 {
		t.Fatalf("Get of an empty value = %q, %v; want found and empty", v, ok)
	}

	if h.ttl != nil {
		if d := h.ttl("draft:u1"); d <= 0 || d > time.Minute {
			t.Fatalf("ttl of draft:u1 = %v, want in (0, 1m]", d)
		}
		if d := h.ttl("forever"); d >= 0 {
			t.Fatalf("ttl of a key set with ttl 0 = %v, want none", d)
		}
	}
	if h.elapse != nil {
		h.elapse(time.Minute - time.Millisecond)
		if _, ok := get("draft:u1"); !ok {
			t.Fatal("key expired early")
		}
		h.elapse(time.Millisecond)
		if _, ok := get("draft:u1"); ok {
			t.Fatal("key still there after its ttl")
		}
		h.elapse(1000 * time.Hour)
		if _, ok := get("forever"); !ok {
			t.Fatal("a key set with ttl 0 expired")
		}
		// An expired key can be set again.
		must(t, kv.Set(ctx, "draft:u1", []byte("new"), time.Minute))
		if v, ok := get("draft:u1"); !ok || string(v) != "new" {
			t.Fatalf("Get after re-set = %q, %v", v, ok)
		}
	}

	must(t, kv.Delete(ctx, "forever"))
	if _, ok := get("forever"); ok {
		t.Fatal("a deleted key was found")
	}
	wantCode(t, kv.Set(ctx, "k", []byte("v"), -time.Second), bot.EINVALID)
	wantCode(t, kv.Set(ctx, "", []byte("v"), time.Second), bot.EINVALID)
}
