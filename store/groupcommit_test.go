package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gridbot/bot"
)

func TestGroupInbox(t *testing.T) { forEachSQL(t, testGroupInbox) }

// gate holds a GroupInbox's committer after it took the first Put of a
// batch, so that a test decides what the batch holds.
type gate struct {
	holding chan struct{} // a committer is held
	release chan struct{} // one receive lets one batch go
	open    atomic.Bool   // once set, nothing is held
}

func newGate() *gate {
	return &gate{holding: make(chan struct{}, 16), release: make(chan struct{})}
}

func (g *gate) hold() {
	if g.open.Load() {
		return
	}
	g.holding <- struct{}{}
	<-g.release
}

// batchOf puts rows as one batch: the first is taken and held, the rest
// queue behind it, then all go. It returns each Put's result.
func batchOf(t *testing.T, g *GroupInbox, gt *gate, rows ...bot.InboxRow) ([]bool, []error) {
	t.Helper()
	inserted := make([]bool, len(rows))
	errs := make([]error, len(rows))
	var wg sync.WaitGroup
	put := func(i int) {
		defer wg.Done()
		inserted[i], errs[i] = g.Put(t.Context(), rows[i])
	}
	wg.Add(len(rows))
	go put(0)
	<-gt.holding
	for i := 1; i < len(rows); i++ {
		go put(i)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(g.reqs) != len(rows)-1 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d Puts queued", len(g.reqs), len(rows)-1)
		}
		time.Sleep(time.Millisecond)
	}
	gt.release <- struct{}{}
	wg.Wait()
	return inserted, errs
}

func newGroup(t *testing.T, e env, opts GroupOptions) *GroupInbox {
	t.Helper()
	g := NewGroupInbox(e.db, opts)
	t.Cleanup(func() { g.Close() })
	return g
}

func countInbox(t *testing.T, db *DB, key string) int {
	t.Helper()
	var n int
	must(t, db.db.GetContext(t.Context(), &n, `SELECT COUNT(*) FROM inbox WHERE dedupe_key = ?`, key))
	return n
}

func testGroupInbox(t *testing.T, open opener) {
	t.Run("duplicates in one batch and across batches", func(t *testing.T) {
		e := open(t)
		gt := newGate()
		// No recent keys: the database itself tells the rows of batch 1.
		g := newGroup(t, e, GroupOptions{hold: gt.hold, RecentKeys: -1})
		// Batch 1: a, b, a again, c, b again. Batch 2: c and a were committed
		// before; d is new, and new twice. Within a batch the Puts queue in
		// no set order, so only one of each pair may say inserted.
		for i, b := range []struct {
			keys []string
			want map[string]int // how many Puts of each key report inserted
		}{
			{[]string{"a", "b", "a", "c", "b"}, map[string]int{"a": 1, "b": 1, "c": 1}},
			{[]string{"c", "d", "a", "d"}, map[string]int{"a": 0, "c": 0, "d": 1}},
		} {
			rows := make([]bot.InboxRow, len(b.keys))
			for j, k := range b.keys {
				rows[j] = inboxRow(k)
			}
			got, errs := batchOf(t, g, gt, rows...)
			count := map[string]int{}
			for j, err := range errs {
				must(t, err)
				count[b.keys[j]] += map[bool]int{true: 1}[got[j]]
			}
			if fmt.Sprint(count) != fmt.Sprint(b.want) {
				t.Fatalf("batch %d: inserted %v, want %v", i+1, count, b.want)
			}
		}
		gt.open.Store(true)
		for _, k := range []string{"a", "b", "c", "d"} {
			if n := countInbox(t, e.db, k); n != 1 {
				t.Fatalf("%d rows of %s", n, k)
			}
		}
		// The rows are the plain inbox's: claimed, completed as usual.
		rows, err := g.Claim(t.Context(), "w", time.Minute, 10)
		must(t, err)
		keys := keysOf(rows)
		slices.Sort(keys) // a batch's rows queued in no set order
		if fmt.Sprint(keys) != "[a b c d]" {
			t.Fatalf("claimed %v", keysOf(rows))
		}
		for _, r := range rows {
			if r.State != bot.InWorking || r.UserID != "zhangsan" || string(r.Payload) != "<xml><MsgId>"+r.DedupeKey+"</MsgId></xml>" {
				t.Fatalf("row %+v", r)
			}
		}
	})

	t.Run("keys stored before the inbox started, mixed with new ones", func(t *testing.T) {
		e := open(t)
		// Another instance (or this one before a restart) stored old1 and
		// old2: this inbox has never seen them.
		for _, k := range []string{"old1", "old2"} {
			if ok, err := e.db.Inbox().Put(t.Context(), inboxRow(k)); err != nil || !ok {
				t.Fatalf("Put(%s) = %v, %v", k, ok, err)
			}
		}
		gt := newGate()
		g := newGroup(t, e, GroupOptions{hold: gt.hold})
		keys := []string{"old1", "new1", "new1", "old2", "new2"}
		rows := make([]bot.InboxRow, len(keys))
		for i, k := range keys {
			rows[i] = inboxRow(k)
		}
		got, errs := batchOf(t, g, gt, rows...)
		count := map[string]int{}
		for i, err := range errs {
			must(t, err)
			count[keys[i]] += map[bool]int{true: 1}[got[i]]
		}
		if fmt.Sprint(count) != fmt.Sprint(map[string]int{"new1": 1, "new2": 1, "old1": 0, "old2": 0}) {
			t.Fatalf("inserted %v", count)
		}
		for _, k := range []string{"old1", "old2", "new1", "new2"} {
			if n := countInbox(t, e.db, k); n != 1 {
				t.Fatalf("%d rows of %s", n, k)
			}
		}
	})

	t.Run("a retry of a recent key is answered without the database", func(t *testing.T) {
		e := open(t)
		g := newGroup(t, e, GroupOptions{RecentKeys: 2})
		for _, k := range []string{"r1", "r2"} {
			if ok, err := g.Put(t.Context(), inboxRow(k)); err != nil || !ok {
				t.Fatalf("Put(%s) = %v, %v", k, ok, err)
			}
		}
		// Take r1's row away behind the inbox's back: a retry of r1 is
		// answered from memory (already committed), so it does not return.
		must(t, execRaw(t, e.db, `DELETE FROM inbox WHERE dedupe_key = 'r1'`))
		if ok, err := g.Put(t.Context(), inboxRow("r1")); err != nil || ok {
			t.Fatalf("retried Put(r1) = %v, %v; want false from the recent keys", ok, err)
		}
		if n := countInbox(t, e.db, "r1"); n != 0 {
			t.Fatal("a remembered retry went to the database")
		}
		// r3 pushes r1 out (two keys remembered): r1 goes to the database
		// again, which finds no row and inserts it; r2's retry, remembered
		// no longer either after r1, is found stored.
		for _, k := range []string{"r3", "r1"} {
			if ok, err := g.Put(t.Context(), inboxRow(k)); err != nil || !ok {
				t.Fatalf("Put(%s) = %v, %v; want inserted", k, ok, err)
			}
		}
		if ok, err := g.Put(t.Context(), inboxRow("r2")); err != nil || ok {
			t.Fatalf("retried Put(r2) = %v, %v; want false from the database", ok, err)
		}
		for _, k := range []string{"r1", "r2", "r3"} {
			if n := countInbox(t, e.db, k); n != 1 {
				t.Fatalf("%d rows of %s", n, k)
			}
		}
	})

	t.Run("busy while callbacks arrive fast", func(t *testing.T) {
		// The rate is counted over windows of BusyWindow: here 1 ns, so
		// each batch after the first closes one, with a few rows in well
		// under a second.
		e := open(t)
		gt := newGate()
		slow := newGroup(t, e, GroupOptions{hold: gt.hold, BusyRate: 1e9, BusyWindow: time.Nanosecond})
		for _, keys := range [][]string{{"s1"}, {"s2", "s3"}, {"s4", "s5", "s6"}} {
			rows := make([]bot.InboxRow, len(keys))
			for i, k := range keys {
				rows[i] = inboxRow(k)
			}
			_, errs := batchOf(t, slow, gt, rows...)
			for _, err := range errs {
				must(t, err)
			}
			if slow.Busy() {
				t.Fatal("busy below BusyRate")
			}
		}
		gt.open.Store(true)

		fast := newGroup(t, e, GroupOptions{BusyRate: 1, BusyWindow: time.Nanosecond})
		for i, k := range []string{"f1", "f2"} {
			if ok, err := fast.Put(t.Context(), inboxRow(k)); err != nil || !ok {
				t.Fatalf("Put(%s) = %v, %v", k, ok, err)
			}
			if i == 0 && fast.Busy() {
				t.Fatal("busy after the first batch: no rate yet")
			}
		}
		if !fast.Busy() {
			t.Fatal("not busy after two batches within a second at BusyRate 1")
		}
		deadline := time.Now().Add(10 * time.Second)
		for fast.Busy() {
			if time.Now().After(deadline) {
				t.Fatal("still busy 10 s after the burst")
			}
			time.Sleep(5 * time.Millisecond)
		}
	})

	t.Run("during a burst a committer lingers for a fuller batch", func(t *testing.T) {
		e := open(t)
		gt := newGate()
		var mu sync.Mutex
		var sizes []int
		g := newGroup(t, e, GroupOptions{hold: gt.hold, BusyRate: 1, BusyWindow: time.Nanosecond, BusyFor: time.Hour, MaxBatch: 3, Linger: time.Hour,
			committed: func(n int) { mu.Lock(); sizes = append(sizes, n); mu.Unlock() }})
		for _, k := range []string{"burst1", "burst2"} { // two batches within a second: a burst at BusyRate 1
			_, errs := batchOf(t, g, gt, inboxRow(k))
			must(t, errs[0])
		}
		if !g.Busy() {
			t.Fatal("not busy after the burst")
		}
		gt.open.Store(true)
		// Three Puts one after another: with an hour's linger the committer
		// can only commit them once the batch is full, as one.
		var wg sync.WaitGroup
		for _, k := range []string{"l1", "l2", "l3"} {
			wg.Go(func() {
				if ok, err := g.Put(t.Context(), inboxRow(k)); err != nil || !ok {
					t.Errorf("Put(%s) = %v, %v", k, ok, err)
				}
			})
		}
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		if fmt.Sprint(sizes) != "[1 1 3]" {
			t.Fatalf("batches of %v, want [1 1 3]", sizes)
		}
	})

	t.Run("a failed commit fails the whole batch", func(t *testing.T) {
		e := open(t)
		// A trigger makes the store refuse the row "boom", mid-batch.
		if e.db.mysql() {
			must(t, execRaw(t, e.db, `CREATE TRIGGER inbox_boom BEFORE INSERT ON inbox FOR EACH ROW
				BEGIN IF NEW.dedupe_key = 'boom' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'boom'; END IF; END`))
			t.Cleanup(func() { _ = execRaw(t, e.db, `DROP TRIGGER IF EXISTS inbox_boom`) })
		} else {
			must(t, execRaw(t, e.db, `CREATE TRIGGER inbox_boom BEFORE INSERT ON inbox
				WHEN NEW.dedupe_key = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END`))
		}
		gt := newGate()
		g := newGroup(t, e, GroupOptions{hold: gt.hold})
		got, errs := batchOf(t, g, gt, inboxRow("x"), inboxRow("y"), inboxRow("boom"), inboxRow("z"))
		for i, err := range errs {
			if err == nil || got[i] {
				t.Fatalf("Put %d = %v, %v; want every Put of the batch to fail", i, got[i], err)
			}
		}
		for _, k := range []string{"x", "y", "z", "boom"} {
			if n := countInbox(t, e.db, k); n != 0 {
				t.Fatalf("%d rows of %s after a failed batch: half-written", n, k)
			}
		}
		// WeCom retries: the same rows go in now.
		gt.open.Store(true)
		for _, k := range []string{"x", "y", "z"} {
			ok, err := g.Put(t.Context(), inboxRow(k))
			if err != nil || !ok {
				t.Fatalf("retried Put(%s) = %v, %v", k, ok, err)
			}
		}
	})

	t.Run("concurrent puts: exactly one insert per key", func(t *testing.T) {
		e := open(t)
		g := newGroup(t, e, GroupOptions{MaxBatch: 16, Committers: 2})
		const workers, each, keys = 32, 40, 300
		var inserts [keys]atomic.Int32
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					k := (w*7 + i*13) % keys
					ok, err := g.Put(t.Context(), inboxRow(fmt.Sprintf("k%03d", k)))
					if err != nil {
						errs <- err
						return
					}
					if ok {
						inserts[k].Add(1)
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		var total int
		must(t, e.db.db.GetContext(t.Context(), &total, `SELECT COUNT(*) FROM inbox`))
		distinct := 0
		for k := range inserts {
			n := inserts[k].Load()
			used := false
			for w := range workers {
				for i := range each {
					if (w*7+i*13)%keys == k {
						used = true
					}
				}
			}
			if used {
				distinct++
			}
			if used && n != 1 || !used && n != 0 {
				t.Fatalf("key k%03d reported inserted %d times", k, n)
			}
		}
		if total != distinct {
			t.Fatalf("%d rows for %d distinct keys", total, distinct)
		}
	})

	t.Run("context and close", func(t *testing.T) {
		e := open(t)
		gt := newGate()
		g := NewGroupInbox(e.db, GroupOptions{hold: gt.hold})
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := g.Put(ctx, inboxRow("gone")); !errors.Is(err, context.Canceled) {
			t.Fatalf("Put with a cancelled context = %v", err)
		}
		// Puts waiting when Close is called are committed, not dropped.
		results := make(chan error, 3)
		for _, k := range []string{"p1", "p2", "p3"} {
			go func() {
				ok, err := g.Put(t.Context(), inboxRow(k))
				if err == nil && !ok {
					err = fmt.Errorf("%s not inserted", k)
				}
				results <- err
			}()
		}
		<-gt.holding
		deadline := time.Now().Add(10 * time.Second)
		for len(g.reqs) != 2 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		closed := make(chan struct{})
		go func() { g.Close(); close(closed) }()
		gt.open.Store(true)
		gt.release <- struct{}{}
		<-closed
		for range 3 {
			must(t, <-results)
		}
		if n := countInbox(t, e.db, "gone"); n != 0 {
			t.Fatal("a Put cancelled before it was taken was committed")
		}
		if _, err := g.Put(t.Context(), inboxRow("late")); bot.ErrorCode(err) != bot.EUNAVAILABLE {
			t.Fatalf("Put after Close = %v, want EUNAVAILABLE", err)
		}
		if _, err := g.Put(t.Context(), inboxRow("")); bot.ErrorCode(err) != bot.EINVALID {
			t.Fatalf("Put with no key = %v", err)
		}
	})
}

func execRaw(t *testing.T, db *DB, q string) error {
	t.Helper()
	_, err := db.db.ExecContext(t.Context(), q)
	return err
}

// The throughput of the inbox under concurrent callbacks: plain Put, one
// transaction (one fsync) per row, against group commit. On SQLite with
// synchronous=FULL the difference is the point of GroupInbox.
func BenchmarkInboxPut(b *testing.B) {
	ctx := context.Background()
	for _, mode := range []string{"plain", "group"} {
		b.Run(mode, func(b *testing.B) {
			db, err := Open(ctx, Options{Driver: DriverSQLite, SQLitePath: filepath.Join(b.TempDir(), "b.db"), Migrate: true})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			var in bot.Inbox = db.Inbox()
			if mode == "group" {
				g := NewGroupInbox(db, GroupOptions{})
				defer g.Close()
				in = g
			}
			var seq atomic.Int64
			b.SetParallelism(32)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					row := inboxRow(fmt.Sprintf("m%d", seq.Add(1)))
					if ok, err := in.Put(ctx, row); err != nil || !ok {
						b.Errorf("Put = %v, %v", ok, err)
						return
					}
				}
			})
		})
	}
}
