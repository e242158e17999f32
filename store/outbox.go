package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"

	"gridbot/bot"
)

var (
	_ bot.Outbox = (*Outbox)(nil)
	_ bot.Tx     = (*Tx)(nil)
)

// Outbox is the SQL queue of WeCom calls (bot.Outbox). Items are claimed
// with the same lease pattern as the inbox (see Inbox).
type Outbox struct {
	db *DB
}

// Tx is the unit of work of a processed callback (bot.Tx): the outbox rows
// it enqueues commit or roll back with the rest of the transaction.
type Tx struct {
	db  *DB
	tx  *sqlx.Tx
	now time.Time
}

// Enqueue adds items inside the transaction; an item whose Key exists is
// skipped.
func (t *Tx) Enqueue(ctx context.Context, items ...bot.OutboxItem) error {
	return enqueue(ctx, t.db, t.tx, t.now, items)
}

// Now is the one timestamp of the transaction.
func (t *Tx) Now() time.Time { return t.now }

// outboxRecord is an outbox row as stored.
type outboxRecord struct {
	ID         int64  `db:"id"`
	Key        string `db:"okey"`
	Kind       string `db:"kind"`
	Recipient  string `db:"recipient"`
	Payload    []byte `db:"payload"`
	State      string `db:"state"`
	Attempts   int    `db:"attempts"`
	NextAt     int64  `db:"next_at"`
	LastError  string `db:"last_error"`
	ErrCode    int    `db:"errcode"`
	Result     []byte `db:"result"`
	CreatedAt  int64  `db:"created_at"`
	SentAt     int64  `db:"sent_at"`
	LeaseOwner string `db:"lease_owner"`
	LeaseUntil int64  `db:"lease_until"`
}

// item converts the record to the domain type.
func (r outboxRecord) item() bot.OutboxItem {
	return bot.OutboxItem{
		ID:          r.ID,
		Key:         r.Key,
		Kind:        bot.OutKind(r.Kind),
		Recipient:   r.Recipient,
		Payload:     r.Payload,
		State:       r.State,
		Attempts:    r.Attempts,
		NextAt:      fromMS(r.NextAt),
		LastError:   r.LastError,
		ErrCode:     r.ErrCode,
		Result:      r.Result,
		CreatedAt:   fromMS(r.CreatedAt),
		SentAt:      fromMS(r.SentAt),
		LeaseOwner:  r.LeaseOwner,
		LeaseExpiry: fromMS(r.LeaseUntil),
	}
}

// outboxColumns are the columns every outbox read selects, in record order.
const outboxColumns = `id, okey, kind, recipient, payload, state, attempts, next_at, last_error, errcode,
	result, created_at, sent_at, lease_owner, lease_until`

// Enqueue adds items in their own transaction. An item whose Key already
// exists is skipped; an empty Key gets a random one. Items are due at their
// NextAt, or now if that is earlier.
func (o *Outbox) Enqueue(ctx context.Context, items ...bot.OutboxItem) error {
	if len(items) == 0 {
		return nil
	}
	tx, now, err := o.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()

	if err := enqueue(ctx, o.db, tx, now, items); err != nil {
		return err
	}
	return commit(tx)
}

// enqueue inserts items in tx, skipping keys that exist.
func enqueue(ctx context.Context, db *DB, tx *sqlx.Tx, now time.Time, items []bot.OutboxItem) error {
	const qSQLite = `INSERT INTO outbox (okey, kind, recipient, payload, state, attempts, next_at, last_error, errcode,
		result, created_at, sent_at, lease_owner, lease_until)
		VALUES (?, ?, ?, ?, 'pending', 0, ?, '', 0, NULL, ?, 0, '', 0)
		ON CONFLICT (okey) DO NOTHING`
	// Not INSERT IGNORE, which would also swallow truncations and bad values.
	const qMySQL = `INSERT INTO outbox (okey, kind, recipient, payload, state, attempts, next_at, last_error, errcode,
		result, created_at, sent_at, lease_owner, lease_until)
		VALUES (?, ?, ?, ?, 'pending', 0, ?, '', 0, NULL, ?, 0, '', 0)
		ON DUPLICATE KEY UPDATE okey = okey`
	q := db.dialect(qSQLite, qMySQL)
	for _, it := range items {
		if it.Key == "" {
			it.Key = "auto:" + rand.Text()
		}
		if err := checkKey("outbox key", it.Key); err != nil {
			return err
		}
		if it.Kind == "" {
			return bot.Errorf(bot.EINVALID, "store: outbox item %q has no kind", it.Key)
		}
		if len(it.Recipient) > maxKeyLen {
			return bot.Errorf(bot.EINVALID, "store: outbox recipient longer than %d bytes", maxKeyLen)
		}
		next := now
		if it.NextAt.After(now) {
			next = it.NextAt
		}
		if _, err := tx.ExecContext(ctx, q, it.Key, string(it.Kind), it.Recipient, nonNil(it.Payload),
			toMS(next), toMS(now)); err != nil {
			return translate(err)
		}
	}
	return nil
}

// Claim leases up to limit items that are due: pending with next_at reached,
// or sending with a lease that has run out. The earliest due go first.
// Claiming does not count an attempt (Retry and Dead do). The items'
// LeaseOwner is the claim token the other methods must present.
func (o *Outbox) Claim(ctx context.Context, owner string, lease time.Duration, limit int) ([]bot.OutboxItem, error) {
	if err := checkClaim(owner, lease, limit); err != nil {
		return nil, err
	}
	var items []bot.OutboxItem
	err := retryTx(func() (err error) {
		items, err = o.claim(ctx, owner, lease, limit)
		return err
	})
	return items, translate(err)
}

func (o *Outbox) claim(ctx context.Context, owner string, lease time.Duration, limit int) ([]bot.OutboxItem, error) {
	const qCandidates = `SELECT id FROM outbox
		WHERE (state = 'pending' AND next_at <= ?) OR (state = 'sending' AND lease_until < ?)
		ORDER BY next_at, id LIMIT ?`
	const qLease = `UPDATE outbox SET state = 'sending', lease_owner = ?, lease_until = ?
		WHERE id IN (?) AND ((state = 'pending' AND next_at <= ?) OR (state = 'sending' AND lease_until < ?))`
	const qRead = `SELECT ` + outboxColumns + ` FROM outbox
		WHERE id IN (?) AND lease_owner = ? ORDER BY next_at, id`

	tx, now, err := o.db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()

	var ids []int64
	if err := tx.SelectContext(ctx, &ids, qCandidates, toMS(now), toMS(now), limit); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, nil
	}
	token := claimToken(owner)
	n, err := execIn(ctx, tx, qLease, token, toMS(now.Add(lease)), ids, toMS(now), toMS(now))
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, nil
	}
	var recs []outboxRecord
	if err := selectIn(ctx, tx, &recs, qRead, ids, token); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	out := make([]bot.OutboxItem, len(recs))
	for i, r := range recs {
		out[i] = r.item()
	}
	return out, nil
}

// MarkSent records success and WeCom's answer; ECONFLICT if the lease was lost.
func (o *Outbox) MarkSent(ctx context.Context, item bot.OutboxItem, result []byte) error {
	const q = `UPDATE outbox SET state = 'sent', sent_at = ?, result = ?, lease_owner = '', lease_until = 0
		WHERE id = ? AND lease_owner = ? AND state = 'sending'`
	now := o.db.Now()
	return o.leased(ctx, item, q, toMS(now), nonNil(result), item.ID, item.LeaseOwner)
}

// Retry counts a failed attempt, records errCode and cause, and makes the
// item due again at next; ECONFLICT if the lease was lost.
func (o *Outbox) Retry(ctx context.Context, item bot.OutboxItem, errCode int, cause string, next time.Time) error {
	const q = `UPDATE outbox SET state = 'pending', attempts = attempts + 1, next_at = ?, last_error = ?, errcode = ?,
		lease_owner = '', lease_until = 0
		WHERE id = ? AND lease_owner = ? AND state = 'sending'`
	now := o.db.Now()
	if next.Before(now) {
		next = now
	}
	return o.leased(ctx, item, q, toMS(next), truncate(cause, maxErrorLen), errCode, item.ID, item.LeaseOwner)
}

// Defer makes the item due again at next without counting an attempt (it
// waited for a rate limit); ECONFLICT if the lease was lost.
func (o *Outbox) Defer(ctx context.Context, item bot.OutboxItem, next time.Time) error {
	const q = `UPDATE outbox SET state = 'pending', next_at = ?, lease_owner = '', lease_until = 0
		WHERE id = ? AND lease_owner = ? AND state = 'sending'`
	now := o.db.Now()
	if next.Before(now) {
		next = now
	}
	return o.leased(ctx, item, q, toMS(next), item.ID, item.LeaseOwner)
}

// Dead moves the item to the dead letters, counting the attempt that failed
// for good; ECONFLICT if the lease was lost.
func (o *Outbox) Dead(ctx context.Context, item bot.OutboxItem, errCode int, cause string) error {
	const q = `UPDATE outbox SET state = 'dead', attempts = attempts + 1, last_error = ?, errcode = ?,
		lease_owner = '', lease_until = 0
		WHERE id = ? AND lease_owner = ? AND state = 'sending'`
	return o.leased(ctx, item, q, truncate(cause, maxErrorLen), errCode, item.ID, item.LeaseOwner)
}

// leased runs a one-row update guarded by the item's lease.
func (o *Outbox) leased(ctx context.Context, item bot.OutboxItem, query string, args ...any) error {
	if item.LeaseOwner == "" {
		return bot.Errorf(bot.ECONFLICT, "store: outbox item %d is not leased", item.ID)
	}
	n, err := execOne(ctx, o.db.db, query, args...)
	if err != nil {
		return err
	}
	if n != 1 {
		return errLeaseLost("outbox item", item.ID)
	}
	return nil
}

// Get returns one item by id; ENOTFOUND if there is none.
func (o *Outbox) Get(ctx context.Context, id int64) (bot.OutboxItem, error) {
	const q = `SELECT ` + outboxColumns + ` FROM outbox WHERE id = ?`
	var rec outboxRecord
	if err := o.db.db.GetContext(ctx, &rec, q, id); errors.Is(err, sql.ErrNoRows) {
		return bot.OutboxItem{}, bot.Errorf(bot.ENOTFOUND, "store: no outbox item %d", id)
	} else if err != nil {
		return bot.OutboxItem{}, translate(err)
	}
	return rec.item(), nil
}

// defaultListLimit is how many items List returns when limit is not positive.
const defaultListLimit = 100

// List returns up to limit items in state (every state when state is ""),
// oldest first.
func (o *Outbox) List(ctx context.Context, state string, limit int) ([]bot.OutboxItem, error) {
	const qAll = `SELECT ` + outboxColumns + ` FROM outbox ORDER BY created_at, id LIMIT ?`
	const qState = `SELECT ` + outboxColumns + ` FROM outbox WHERE state = ? ORDER BY created_at, id LIMIT ?`
	if limit <= 0 {
		limit = defaultListLimit
	}
	var (
		recs []outboxRecord
		err  error
	)
	if state == "" {
		err = o.db.db.SelectContext(ctx, &recs, qAll, limit)
	} else {
		err = o.db.db.SelectContext(ctx, &recs, qState, state, limit)
	}
	if err != nil {
		return nil, translate(err)
	}
	out := make([]bot.OutboxItem, len(recs))
	for i, r := range recs {
		out[i] = r.item()
	}
	return out, nil
}

// Depth counts items by state.
func (o *Outbox) Depth(ctx context.Context) (map[string]int, error) {
	const q = `SELECT state, COUNT(*) AS n FROM outbox GROUP BY state`
	return countByState(ctx, o.db.db, q)
}
