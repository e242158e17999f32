package store

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"

	"gridbot/bot"
)

var _ bot.Inbox = (*GroupInbox)(nil)

// GroupOptions configure a GroupInbox.
type GroupOptions struct {
	// MaxBatch is the most rows one transaction commits (default 256).
	MaxBatch int
	// Committers is how many transactions may be in flight at once
	// (default 1: SQLite has one writer; MySQL gains from a few, since the
	// server overlaps their log flushes).
	Committers int
	// Queue is how many Puts may wait for a committer (default 4·MaxBatch);
	// a Put beyond it waits for room or for its context.
	Queue int
	// Timeout bounds one batch's transaction (default 5 s, the time WeCom
	// waits for an answer before it retries).
	Timeout time.Duration
	// RecentKeys is how many dedupe keys of committed rows are remembered
	// (default 16384; negative: none). A Put of a remembered key is a
	// retried delivery of a row already durable: it is answered at once,
	// without the database. WeCom retries within seconds, so the newest
	// keys are the ones retried.
	RecentKeys int
	// BusyFor is how long Busy holds once callbacks arrived at BusyRate or
	// faster (default 50 ms).
	BusyFor time.Duration
	// Linger, during a burst (Busy), is how long a committer waits for more
	// Puts before it commits a batch that is not full (0: not at all).
	Linger time.Duration
	// BusyRate is the rate of callbacks a second from which Busy reports a
	// burst (default 2,000: more than the processor takes on two cores,
	// about 1,000 rows/s on SQLite and 800 on MariaDB, so a backlog grows
	// at that rate whatever the processor does). It is counted over
	// windows of at least BusyWindow (default 20 ms), so it does not depend
	// on how long the disk takes to flush, nor on two callbacks that happen
	// to arrive together.
	BusyRate   float64
	BusyWindow time.Duration

	// hold, when set (by tests), is called by a committer after it took the
	// first Put of a batch and before it gathers the rest.
	hold func()
	// committed, when set (by tests), is told each batch's size once its
	// transaction has ended.
	committed func(n int)
}

// GroupInbox is the SQL inbox with group commit: concurrent Puts are
// committed together, many rows in one transaction, so that one fsync
// acknowledges a whole batch of callbacks instead of one each. Everything
// but Put is the plain Inbox's.
//
// A committer takes every Put that is waiting (up to MaxBatch) as soon as
// the previous transaction returns, inserts the rows inside one
// transaction, detecting duplicates per row (the first of two rows with one
// dedupe key in a batch wins, as it would one after the other), and commits.
// Each Put returns only once its own transaction has committed; a failed
// transaction fails every Put of its batch and writes none of its rows.
//
// Durability is the plain Put's: on SQLite the journal is WAL with
// synchronous=FULL (the driver's default, which the store keeps), so a
// commit has reached the disk when it returns, and an acknowledged row
// survives a power failure; NORMAL would lose the last commits of the WAL
// on one, and is not used.
type GroupInbox struct {
	*Inbox
	opts GroupOptions

	mu     sync.RWMutex // guards closed against Puts that are enqueueing
	closed bool
	reqs   chan *groupPut
	wg     sync.WaitGroup

	burstUntil atomic.Int64 // unix ns until which Busy holds after a burst
	rateMu     sync.Mutex
	winStart   time.Time   // the arrival rate's current window began then
	winRows    int         // rows counted in it so far
	recent     *recentKeys // nil when RecentKeys < 0
}

// recentKeys remembers the newest n dedupe keys known to be committed.
type recentKeys struct {
	mu   sync.Mutex
	set  map[string]struct{}
	ring []string
	next int
}

func newRecentKeys(n int) *recentKeys {
	return &recentKeys{set: make(map[string]struct{}, n), ring: make([]string, 0, n)}
}

func (r *recentKeys) has(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.set[key]
	return ok
}

// add remembers the keys of batch, forgetting the oldest beyond capacity.
func (r *recentKeys) add(batch []*groupPut) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range batch {
		k := p.row.DedupeKey
		if _, ok := r.set[k]; ok {
			continue
		}
		r.set[k] = struct{}{}
		if len(r.ring) < cap(r.ring) {
			r.ring = append(r.ring, k)
			continue
		}
		delete(r.set, r.ring[r.next])
		r.ring[r.next] = k
		r.next = (r.next + 1) % len(r.ring)
	}
}

// groupPut is one Put waiting for its batch to commit.
type groupPut struct {
	ctx  context.Context
	row  bot.InboxRow
	done chan groupResult // buffered: the committer never blocks on it
}

// groupResult is what a committer answers one Put.
type groupResult struct {
	inserted bool
	err      error
}

// NewGroupInbox returns the group-committing inbox of db and starts its
// committers; Close stops them.
func NewGroupInbox(db *DB, opts GroupOptions) *GroupInbox {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
	}
	if opts.Committers <= 0 {
		opts.Committers = 1
	}
	if opts.Queue <= 0 {
		opts.Queue = 4 * opts.MaxBatch
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	if opts.BusyRate <= 0 {
		opts.BusyRate = 2000
	}
	if opts.BusyWindow <= 0 {
		opts.BusyWindow = 20 * time.Millisecond
	}
	if opts.BusyFor <= 0 {
		opts.BusyFor = 50 * time.Millisecond
	}
	if opts.RecentKeys == 0 {
		opts.RecentKeys = 16384
	}
	g := &GroupInbox{Inbox: db.Inbox(), opts: opts, reqs: make(chan *groupPut, opts.Queue)}
	if opts.RecentKeys > 0 {
		g.recent = newRecentKeys(opts.RecentKeys)
	}
	g.wg.Add(opts.Committers)
	for range opts.Committers {
		go g.commitLoop()
	}
	return g
}

// Put commits row as new, in a transaction shared with the Puts waiting at
// the same time. inserted is false when its DedupeKey was already there (a
// retried delivery), in which case nothing changes. When ctx ends first Put
// returns ctx's error: the row may or may not be committed, as with any
// transaction whose commit went unanswered.
func (g *GroupInbox) Put(ctx context.Context, row bot.InboxRow) (inserted bool, err error) {
	if err := checkKey("dedupe key", row.DedupeKey); err != nil {
		return false, err
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if g.recent != nil && g.recent.has(row.DedupeKey) {
		return false, nil // a retried delivery of a committed row
	}
	if row.ReceivedAt.IsZero() {
		row.ReceivedAt = g.db.Now()
	}
	p := &groupPut{ctx: ctx, row: row, done: make(chan groupResult, 1)}
	if err := g.enqueue(ctx, p); err != nil {
		return false, err
	}
	select {
	case r := <-p.done:
		return r.inserted, r.err
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// enqueue hands p to the committers, unless the inbox is closed.
func (g *GroupInbox) enqueue(ctx context.Context, p *groupPut) error {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.closed {
		return bot.Errorf(bot.EUNAVAILABLE, "store: the inbox is closed")
	}
	select {
	case g.reqs <- p:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Busy reports a burst of callbacks: in the last BusyFor (50 ms) they
// arrived at BusyRate (2,000 a second) or faster. Background work (the
// inbox processor) steps aside while it holds, so that acknowledgements,
// which WeCom waits for, get the CPU and the database first. At a steady
// 1,000 callbacks a second Busy is false, however slow the disk.
func (g *GroupInbox) Busy() bool {
	return time.Now().UnixNano() < g.burstUntil.Load()
}

// noteRate counts a batch of n rows beginning now into the arrival rate's
// window; once the window is BusyWindow long, its rate decides whether a
// burst holds, and a new window begins.
func (g *GroupInbox) noteRate(n int) {
	now := time.Now()
	g.rateMu.Lock()
	defer g.rateMu.Unlock()
	if g.winStart.IsZero() {
		g.winStart = now
	}
	g.winRows += n
	elapsed := now.Sub(g.winStart)
	if elapsed < g.opts.BusyWindow {
		return
	}
	if float64(g.winRows) >= g.opts.BusyRate*elapsed.Seconds() {
		g.burstUntil.Store(now.Add(g.opts.BusyFor).UnixNano())
	}
	g.winStart, g.winRows = now, 0
}

// Close stops taking Puts, commits those already waiting, and returns when
// the committers have finished. It does not close the DB.
func (g *GroupInbox) Close() error {
	g.mu.Lock()
	if !g.closed {
		g.closed = true
		close(g.reqs)
	}
	g.mu.Unlock()
	g.wg.Wait()
	return nil
}

// commitLoop commits batches until the queue is closed and drained.
func (g *GroupInbox) commitLoop() {
	defer g.wg.Done()
	batch := make([]*groupPut, 0, g.opts.MaxBatch)
	for p := range g.reqs {
		batch = append(batch[:0], p)
		if g.opts.hold != nil {
			g.opts.hold()
		}
		var linger <-chan time.Time
		if g.opts.Linger > 0 && g.Busy() {
			// During a burst, wait a moment for more: fewer, fuller commits.
			linger = time.After(g.opts.Linger)
		}
	fill:
		for len(batch) < g.opts.MaxBatch {
			select {
			case p, ok := <-g.reqs:
				if !ok {
					break fill
				}
				batch = append(batch, p)
				continue
			default:
			}
			if linger == nil {
				break
			}
			select {
			case p, ok := <-g.reqs:
				if !ok {
					break fill
				}
				batch = append(batch, p)
			case <-linger:
				break fill
			}
		}
		g.commitBatch(batch)
		if g.opts.committed != nil {
			g.opts.committed(len(batch))
		}
		clear(batch) // let the finished requests go
	}
}

// commitBatch inserts the rows of batch in one transaction and answers
// every Put of it. Puts whose context already ended are answered with its
// error and left out.
func (g *GroupInbox) commitBatch(batch []*groupPut) {
	live := batch[:0:0]
	for _, p := range batch {
		if err := p.ctx.Err(); err != nil {
			p.done <- groupResult{err: err}
			continue
		}
		live = append(live, p)
	}
	if len(live) == 0 {
		return
	}
	g.noteRate(len(live))
	ctx, cancel := context.WithTimeout(context.Background(), g.opts.Timeout)
	defer cancel()
	var inserted []bool
	err := retryTx(func() (err error) {
		inserted, err = g.insertAll(ctx, live)
		return err
	})
	err = translate(err)
	if err == nil && g.recent != nil {
		g.recent.add(live) // every key of the batch is committed now, new or not
	}
	for i, p := range live {
		if err != nil {
			p.done <- groupResult{err: err}
		} else {
			p.done <- groupResult{inserted: inserted[i]}
		}
	}
}

// insertAll commits the batch and reports which rows went in: the first
// row of each dedupe key that is not stored yet, with one multi-row INSERT.
// On SQLite, ON CONFLICT DO NOTHING RETURNING names the rows inserted. On
// MySQL (no RETURNING) the INSERT of every key is tried first; if a key is
// stored already it fails whole, the stored keys are read and the others
// inserted; should another instance insert one of those in between, that
// fails too, and the batch is done row by row.
func (g *GroupInbox) insertAll(ctx context.Context, batch []*groupPut) ([]bool, error) {
	if g.db.mysql() {
		inserted, err := g.insertFresh(ctx, batch)
		if bot.ErrorCode(translate(err)) != bot.ECONFLICT {
			return inserted, err
		}
		inserted, err = g.insertMulti(ctx, batch)
		if bot.ErrorCode(translate(err)) != bot.ECONFLICT {
			return inserted, err
		}
		return g.insertEach(ctx, batch)
	}
	return g.insertReturning(ctx, batch)
}

// firstOfEach returns the indexes of the first row of each dedupe key.
func firstOfEach(batch []*groupPut) []int {
	seen := make(map[string]bool, len(batch))
	first := make([]int, 0, len(batch))
	for i, p := range batch {
		if !seen[p.row.DedupeKey] {
			seen[p.row.DedupeKey] = true
			first = append(first, i)
		}
	}
	return first
}

// valuesOf appends the multi-row VALUES list of rows idx of batch to q and
// returns its arguments.
func valuesOf(q *strings.Builder, batch []*groupPut, idx []int) []any {
	args := make([]any, 0, 6*len(idx))
	for n, i := range idx {
		r := batch[i].row
		if n > 0 {
			q.WriteString(", ")
		}
		q.WriteString(insertValues)
		args = append(args, r.DedupeKey, string(r.Kind), r.UserID, nonNil(r.Payload), bot.InNew, toMS(r.ReceivedAt))
	}
	return args
}

// insertReturning is the SQLite batch: one INSERT … ON CONFLICT DO NOTHING
// RETURNING dedupe_key of the first row of each key.
func (g *GroupInbox) insertReturning(ctx context.Context, batch []*groupPut) ([]bool, error) {
	first := firstOfEach(batch)
	var q strings.Builder
	q.WriteString(insertColumns)
	args := valuesOf(&q, batch, first)
	q.WriteString(` ON CONFLICT (dedupe_key) DO NOTHING RETURNING dedupe_key`)

	tx, err := g.db.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var keys []string
	if err := tx.SelectContext(ctx, &keys, q.String(), args...); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	added := make(map[string]bool, len(keys))
	for _, k := range keys {
		added[k] = true
	}
	inserted := make([]bool, len(batch))
	for _, i := range first {
		inserted[i] = added[batch[i].row.DedupeKey]
	}
	return inserted, nil
}

// insertColumns are the columns of a new inbox row.
const insertColumns = `INSERT INTO inbox (dedupe_key, kind, user_id, payload, state, attempts, last_error,
		received_at, processed_at, lease_owner, lease_until) VALUES `

// insertValues is one row's values after insertColumns.
const insertValues = `(?, ?, ?, ?, ?, 0, '', ?, 0, '', 0)`

// insertEach inserts one row per statement (MySQL, after a race): a
// duplicate-key error undoes only its statement and the transaction goes
// on. (ON DUPLICATE KEY UPDATE cannot tell a skip from an insert under
// clientFoundRows, and INSERT IGNORE would hide other errors too.)
func (g *GroupInbox) insertEach(ctx context.Context, batch []*groupPut) ([]bool, error) {
	q := insertColumns + insertValues
	tx, err := g.db.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	inserted := make([]bool, len(batch))
	for i, p := range batch {
		r := p.row
		res, err := tx.ExecContext(ctx, q, r.DedupeKey, string(r.Kind), r.UserID, nonNil(r.Payload), bot.InNew, toMS(r.ReceivedAt))
		if err != nil {
			if bot.ErrorCode(translate(err)) == bot.ECONFLICT { // dedupe_key is the only unique key
				continue
			}
			return nil, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, err
		}
		inserted[i] = n == 1
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return inserted, nil
}

// insertFresh is the MySQL batch when no key of it is stored yet, the
// usual case (retries within seconds were answered from the recent keys):
// the first row of each key in one INSERT, one round trip. A key already
// stored fails the statement on the duplicate (ECONFLICT), writing nothing,
// and insertAll reads which keys are stored.
func (g *GroupInbox) insertFresh(ctx context.Context, batch []*groupPut) ([]bool, error) {
	first := firstOfEach(batch)
	var q strings.Builder
	q.WriteString(insertColumns)
	args := valuesOf(&q, batch, first)
	if _, err := g.db.db.ExecContext(ctx, q.String(), args...); err != nil {
		return nil, err
	}
	inserted := make([]bool, len(batch))
	for _, i := range first {
		inserted[i] = true
	}
	return inserted, nil
}

// insertMulti is the MySQL batch: the keys already stored are read, and
// the first row of each of the others goes in with one INSERT. No explicit
// transaction: a single statement is atomic by itself (all its rows or
// none), and the read needs no lock, since a row inserted by another
// transaction in between makes the INSERT fail on the duplicate key
// (ECONFLICT), writing nothing of the batch. Two round trips and one log
// flush per batch, instead of BEGIN, SELECT, INSERT and COMMIT.
func (g *GroupInbox) insertMulti(ctx context.Context, batch []*groupPut) ([]bool, error) {
	const qExisting = `SELECT dedupe_key FROM inbox WHERE dedupe_key IN (?)`
	first := firstOfEach(batch)
	keys := make([]string, len(first))
	for n, i := range first {
		keys[n] = batch[i].row.DedupeKey
	}
	q, a, err := sqlx.In(qExisting, keys)
	if err != nil {
		return nil, err
	}
	var existing []string
	if err := g.db.db.SelectContext(ctx, &existing, g.db.db.Rebind(q), a...); err != nil {
		return nil, err
	}
	stored := make(map[string]bool, len(existing))
	for _, k := range existing {
		stored[k] = true
	}
	fresh := first[:0:0]
	for _, i := range first {
		if !stored[batch[i].row.DedupeKey] {
			fresh = append(fresh, i)
		}
	}
	if len(fresh) > 0 {
		var q strings.Builder
		q.WriteString(insertColumns)
		args := valuesOf(&q, batch, fresh)
		if _, err := g.db.db.ExecContext(ctx, q.String(), args...); err != nil {
			return nil, err
		}
	}
	inserted := make([]bool, len(batch))
	for _, i := range fresh {
		inserted[i] = true
	}
	return inserted, nil
}
