package store

import (
	"context"
	"crypto/rand"
	"sort"
	"time"

	"github.com/jmoiron/sqlx"

	"gridbot/bot"
)

var _ bot.Inbox = (*Inbox)(nil)

// Inbox is the SQL inbox of acknowledged callbacks (bot.Inbox).
//
// Rows are claimed with the portable lease pattern: read candidate ids,
// UPDATE them under the same condition with a claim token unique to the call,
// read back the rows carrying that token. It needs neither SKIP LOCKED (TiDB
// lacks it) nor an UPDATE with a subquery on its own table (MySQL forbids it),
// and two workers never get the same row.
type Inbox struct {
	db *DB
}

// maxOwnerLen leaves room in lease_owner for the token claimToken appends.
const maxOwnerLen = maxKeyLen - 32

// claimToken returns the lease owner written by one Claim call: the caller's
// name and a random suffix, so that even two claims under the same owner
// name never share a row.
func claimToken(owner string) string {
	return owner + "#" + rand.Text()
}

// checkClaim validates the arguments of a Claim.
func checkClaim(owner string, lease time.Duration, limit int) error {
	if err := checkKey("lease owner", owner); err != nil {
		return err
	}
	if len(owner) > maxOwnerLen {
		return bot.Errorf(bot.EINVALID, "store: lease owner longer than %d bytes", maxOwnerLen)
	}
	if lease <= 0 {
		return bot.Errorf(bot.EINVALID, "store: lease must be positive, got %v", lease)
	}
	if limit <= 0 {
		return bot.Errorf(bot.EINVALID, "store: claim limit must be positive, got %d", limit)
	}
	return nil
}

// maxTxRetries bounds how often a transaction is run after a deadlock.
const maxTxRetries = 3

// retryTx runs fn, a whole transaction, again while it fails with a
// transient conflict (retryable), at most maxTxRetries times in all.
func retryTx(fn func() error) error {
	for try := 1; ; try++ {
		err := fn()
		if err == nil || !retryable(err) || try == maxTxRetries {
			return err
		}
	}
}

// inboxRecord is an inbox row as stored.
type inboxRecord struct {
	ID          int64  `db:"id"`
	DedupeKey   string `db:"dedupe_key"`
	Kind        string `db:"kind"`
	UserID      string `db:"user_id"`
	Payload     []byte `db:"payload"`
	State       string `db:"state"`
	Attempts    int    `db:"attempts"`
	LastError   string `db:"last_error"`
	ReceivedAt  int64  `db:"received_at"`
	ProcessedAt int64  `db:"processed_at"`
	LeaseOwner  string `db:"lease_owner"`
	LeaseUntil  int64  `db:"lease_until"`
}

// row converts the record to the domain type.
func (r inboxRecord) row() bot.InboxRow {
	return bot.InboxRow{
		ID:          r.ID,
		DedupeKey:   r.DedupeKey,
		Kind:        bot.Kind(r.Kind),
		UserID:      r.UserID,
		Payload:     r.Payload,
		State:       r.State,
		Attempts:    r.Attempts,
		LastError:   r.LastError,
		ReceivedAt:  fromMS(r.ReceivedAt),
		ProcessedAt: fromMS(r.ProcessedAt),
		LeaseOwner:  r.LeaseOwner,
		LeaseExpiry: fromMS(r.LeaseUntil),
	}
}

// Put commits row as new. A row whose DedupeKey is already there (a retried
// delivery) changes nothing and reports inserted=false. ReceivedAt defaults
// to the store's clock.
func (in *Inbox) Put(ctx context.Context, row bot.InboxRow) (inserted bool, err error) {
	const q = `INSERT INTO inbox (dedupe_key, kind, user_id, payload, state, attempts, last_error,
		received_at, processed_at, lease_owner, lease_until)
		VALUES (?, ?, ?, ?, ?, 0, '', ?, 0, '', 0)`
	if err := checkKey("dedupe key", row.DedupeKey); err != nil {
		return false, err
	}
	received := row.ReceivedAt
	if received.IsZero() {
		received = in.db.Now()
	}
	_, err = in.db.db.ExecContext(ctx, q, row.DedupeKey, string(row.Kind), row.UserID, nonNil(row.Payload),
		bot.InNew, toMS(received))
	switch err := translate(err); {
	case err == nil:
		return true, nil
	case bot.ErrorCode(err) == bot.ECONFLICT: // dedupe_key is the only unique key
		return false, nil
	default:
		return false, err
	}
}

// Claim leases up to limit rows that are new, or working with a lease that
// has run out (a crashed worker, or a failed row whose retry delay is over),
// oldest first. Each claim counts an attempt. The rows' LeaseOwner is the
// claim token that Complete and Fail must present.
func (in *Inbox) Claim(ctx context.Context, owner string, lease time.Duration, limit int) ([]bot.InboxRow, error) {
	if err := checkClaim(owner, lease, limit); err != nil {
		return nil, err
	}
	var rows []bot.InboxRow
	err := retryTx(func() (err error) {
		rows, err = in.claim(ctx, owner, lease, limit)
		return err
	})
	return rows, translate(err)
}

func (in *Inbox) claim(ctx context.Context, owner string, lease time.Duration, limit int) ([]bot.InboxRow, error) {
	// Ordered by arrival; ids only break ties (TiDB hands them out per server).
	// Two queries, each served by an index, instead of one OR that would sort
	// the whole backlog on every claim: new rows by (state, received_at, id),
	// expired leases by (state, lease_until).
	const qNew = `SELECT id, received_at FROM inbox WHERE state = 'new' ORDER BY received_at, id LIMIT ?`
	const qExpired = `SELECT id, received_at FROM inbox WHERE state = 'working' AND lease_until < ?
		ORDER BY received_at, id LIMIT ?`
	const qLease = `UPDATE inbox SET state = 'working', lease_owner = ?, lease_until = ?, attempts = attempts + 1
		WHERE id IN (?) AND (state = 'new' OR (state = 'working' AND lease_until < ?))`
	const qRead = `SELECT id, dedupe_key, kind, user_id, payload, state, attempts, last_error,
		received_at, processed_at, lease_owner, lease_until
		FROM inbox WHERE id IN (?) AND lease_owner = ? ORDER BY received_at, id`

	tx, now, err := in.db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()

	type candidate struct {
		ID       int64 `db:"id"`
		Received int64 `db:"received_at"`
	}
	var fresh, expired []candidate
	if err := tx.SelectContext(ctx, &fresh, qNew, limit); err != nil {
		return nil, err
	}
	if err := tx.SelectContext(ctx, &expired, qExpired, toMS(now), limit); err != nil {
		return nil, err
	}
	all := append(fresh, expired...)
	sort.Slice(all, func(i, j int) bool {
		if all[i].Received != all[j].Received {
			return all[i].Received < all[j].Received
		}
		return all[i].ID < all[j].ID
	})
	if len(all) > limit {
		all = all[:limit]
	}
	if len(all) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(all))
	for i, c := range all {
		ids[i] = c.ID
	}
	token := claimToken(owner)
	n, err := execIn(ctx, tx, qLease, token, toMS(now.Add(lease)), ids, toMS(now))
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, nil // every candidate went to another worker
	}
	var recs []inboxRecord
	if err := selectIn(ctx, tx, &recs, qRead, ids, token); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	out := make([]bot.InboxRow, len(recs))
	for i, r := range recs {
		out[i] = r.row()
	}
	return out, nil
}

// Complete runs fn in one transaction with marking row done. The lease is
// checked first, so fn does not run when the caller no longer holds it: the
// result is ECONFLICT and nothing changes. An error from fn rolls everything
// back and is returned as is. fn must do its work through the Tx only (on
// SQLite the transaction holds the one connection).
func (in *Inbox) Complete(ctx context.Context, row bot.InboxRow, fn func(bot.Tx) error) error {
	const q = `UPDATE inbox SET state = 'done', processed_at = ?, lease_owner = ''
		WHERE id = ? AND lease_owner = ? AND state = 'working'`
	if row.LeaseOwner == "" {
		return bot.Errorf(bot.ECONFLICT, "store: inbox row %d is not leased", row.ID)
	}
	tx, now, err := in.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()

	res, err := tx.ExecContext(ctx, q, toMS(now), row.ID, row.LeaseOwner)
	if err != nil {
		return translate(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return translate(err)
	} else if n != 1 {
		return errLeaseLost("inbox row", row.ID)
	}
	if fn != nil {
		if err := fn(&Tx{db: in.db, tx: tx, now: now}); err != nil {
			return err
		}
	}
	return commit(tx)
}

// Fail records cause on row and gives the lease up. With dead the row goes
// dead; otherwise it stays working with a lease that nobody holds and that
// runs out after retryAfter, when Claim takes it again. ECONFLICT when the
// caller no longer holds the lease.
func (in *Inbox) Fail(ctx context.Context, row bot.InboxRow, cause string, retryAfter time.Duration, dead bool) error {
	const qRetry = `UPDATE inbox SET lease_owner = '', lease_until = ?, last_error = ?
		WHERE id = ? AND lease_owner = ? AND state = 'working'`
	const qDead = `UPDATE inbox SET state = 'dead', processed_at = ?, lease_owner = '', lease_until = 0, last_error = ?
		WHERE id = ? AND lease_owner = ? AND state = 'working'`
	if row.LeaseOwner == "" {
		return bot.Errorf(bot.ECONFLICT, "store: inbox row %d is not leased", row.ID)
	}
	now := in.db.Now()
	cause = truncate(cause, maxErrorLen)
	var (
		n   int64
		err error
	)
	if dead {
		n, err = execOne(ctx, in.db.db, qDead, toMS(now), cause, row.ID, row.LeaseOwner)
	} else {
		retryAfter = max(retryAfter, 0)
		n, err = execOne(ctx, in.db.db, qRetry, toMS(now.Add(retryAfter)), cause, row.ID, row.LeaseOwner)
	}
	if err != nil {
		return err
	}
	if n != 1 {
		return errLeaseLost("inbox row", row.ID)
	}
	return nil
}

// Stats counts rows by state and gives the age of the oldest row that is
// neither done nor dead.
func (in *Inbox) Stats(ctx context.Context) (bot.InboxStats, error) {
	const qCount = `SELECT state, COUNT(*) AS n FROM inbox GROUP BY state`
	const qOldest = `SELECT COALESCE(MIN(received_at), 0) FROM inbox WHERE state IN ('new', 'working')`

	tx, now, err := in.db.begin(ctx)
	if err != nil {
		return bot.InboxStats{}, err
	}
	defer tx.Rollback()

	byState, err := countByState(ctx, tx, qCount)
	if err != nil {
		return bot.InboxStats{}, err
	}
	var oldest int64
	if err := tx.GetContext(ctx, &oldest, qOldest); err != nil {
		return bot.InboxStats{}, translate(err)
	}
	if err := commit(tx); err != nil {
		return bot.InboxStats{}, err
	}
	st := bot.InboxStats{ByState: byState}
	if oldest != 0 {
		st.OldestUndone = max(now.Sub(fromMS(oldest)), 0)
	}
	return st, nil
}

// countByState runs a "state, n" GROUP BY query.
func countByState(ctx context.Context, q sqlx.QueryerContext, query string) (map[string]int, error) {
	var counts []struct {
		State string `db:"state"`
		N     int    `db:"n"`
	}
	if err := sqlx.SelectContext(ctx, q, &counts, query); err != nil {
		return nil, translate(err)
	}
	out := make(map[string]int, len(counts))
	for _, c := range counts {
		out[c.State] = c.N
	}
	return out, nil
}

// execIn runs an Exec whose query has an IN (?) list, returning rows affected.
func execIn(ctx context.Context, tx *sqlx.Tx, query string, args ...any) (int64, error) {
	q, a, err := sqlx.In(query, args...)
	if err != nil {
		return 0, err
	}
	res, err := tx.ExecContext(ctx, tx.Rebind(q), a...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// selectIn runs a Select whose query has an IN (?) list.
func selectIn(ctx context.Context, tx *sqlx.Tx, dest any, query string, args ...any) error {
	q, a, err := sqlx.In(query, args...)
	if err != nil {
		return err
	}
	return tx.SelectContext(ctx, dest, tx.Rebind(q), a...)
}

// execOne runs a single-statement update and returns rows affected (rows
// matched on MySQL too: the DSN sets clientFoundRows).
func execOne(ctx context.Context, e sqlx.ExecerContext, query string, args ...any) (int64, error) {
	res, err := e.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, translate(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, translate(err)
	}
	return n, nil
}

// errLeaseLost is the ECONFLICT of a row whose lease the caller lost.
func errLeaseLost(what string, id int64) error {
	return bot.Errorf(bot.ECONFLICT, "store: lease on %s %d was lost", what, id)
}
