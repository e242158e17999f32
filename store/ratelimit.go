package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"gridbot/bot"
)

var _ bot.RateLimiter = (*RateLimiter)(nil)

// RateLimiter is a sliding-window limiter shared by every instance through
// SQL (bot.RateLimiter), for deployments without Redis.
//
// A key has limit slot rows, each holding the time it was last taken. A slot
// is free when that time is at least window ago; Acquire takes the oldest
// slot with a compare-and-set on the time it read. A slot taken at t cannot be
// taken again before t+window, so no window ever holds more than limit
// acquisitions, whatever the number of instances.
type RateLimiter struct {
	db *DB
}

// maxAcquireTries bounds the compare-and-set loop of one Acquire.
const maxAcquireTries = 8

// maxSlots bounds limit: each slot is a row.
const maxSlots = 100000

// Acquire takes one of limit slots of key for window. When none is free it
// returns ok=false and the time the oldest slot frees. When other callers
// keep winning the race for the free slots it gives up with ok=false and
// retryAt now, and the caller tries again.
func (l *RateLimiter) Acquire(ctx context.Context, key string, limit int, window time.Duration) (ok bool, retryAt time.Time, err error) {
	if err := checkKey("rate-limit key", key); err != nil {
		return false, time.Time{}, err
	}
	if limit <= 0 || limit > maxSlots {
		return false, time.Time{}, bot.Errorf(bot.EINVALID, "store: rate limit must be in 1..%d, got %d", maxSlots, limit)
	}
	if window <= 0 {
		return false, time.Time{}, bot.Errorf(bot.EINVALID, "store: rate window must be positive, got %v", window)
	}
	now := l.db.Now()
	created := false
	for try := 0; try < maxAcquireTries; try++ {
		slot, usedAt, found, err := l.oldest(ctx, key, limit)
		if err != nil {
			return false, time.Time{}, err
		}
		if !found || (usedAt > toMS(now.Add(-window)) && !created) {
			// No slots yet, or all busy: the limit may have grown since the
			// slots were made. Create the missing ones once and look again.
			if err := l.ensureSlots(ctx, key, limit); err != nil {
				return false, time.Time{}, err
			}
			created = true
			continue
		}
		if usedAt > toMS(now.Add(-window)) {
			return false, fromMS(usedAt).Add(window), nil
		}
		won, err := l.take(ctx, key, slot, usedAt, toMS(now))
		if err != nil {
			return false, time.Time{}, err
		}
		if won {
			return true, time.Time{}, nil
		}
		// Another caller took that slot first: read again.
	}
	return false, now, nil
}

// oldest returns the slot of key (below limit) that was taken longest ago.
func (l *RateLimiter) oldest(ctx context.Context, key string, limit int) (slot int, usedAt int64, found bool, err error) {
	const q = `SELECT slot, used_at FROM rate_slots WHERE rkey = ? AND slot < ? ORDER BY used_at, slot LIMIT 1`
	var rec struct {
		Slot   int   `db:"slot"`
		UsedAt int64 `db:"used_at"`
	}
	err = l.db.db.GetContext(ctx, &rec, q, key, limit)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, false, nil
	}
	if err != nil {
		return 0, 0, false, translate(err)
	}
	return rec.Slot, rec.UsedAt, true, nil
}

// ensureSlots creates the free slots 0..limit-1 of key that do not exist.
// Slots are made in ascending order, so when the top one exists all do.
func (l *RateLimiter) ensureSlots(ctx context.Context, key string, limit int) error {
	const qTop = `SELECT COUNT(*) FROM rate_slots WHERE rkey = ? AND slot = ?`
	const qSQLite = `INSERT INTO rate_slots (rkey, slot, used_at) VALUES %s ON CONFLICT (rkey, slot) DO NOTHING`
	const qMySQL = `INSERT INTO rate_slots (rkey, slot, used_at) VALUES %s ON DUPLICATE KEY UPDATE rkey = rkey`
	const batch = 500
	var top int
	if err := l.db.db.GetContext(ctx, &top, qTop, key, limit-1); err != nil {
		return translate(err)
	}
	if top > 0 {
		return nil
	}
	for lo := 0; lo < limit; lo += batch {
		hi := min(lo+batch, limit)
		values := strings.TrimSuffix(strings.Repeat("(?, ?, 0), ", hi-lo), ", ")
		args := make([]any, 0, 2*(hi-lo))
		for s := lo; s < hi; s++ {
			args = append(args, key, s)
		}
		q := strings.Replace(l.db.dialect(qSQLite, qMySQL), "%s", values, 1)
		if _, err := l.db.db.ExecContext(ctx, q, args...); err != nil {
			return translate(err)
		}
	}
	return nil
}

// take sets slot's time to now if it still holds the time that was read.
func (l *RateLimiter) take(ctx context.Context, key string, slot int, seen, now int64) (bool, error) {
	const q = `UPDATE rate_slots SET used_at = ? WHERE rkey = ? AND slot = ? AND used_at = ?`
	n, err := execOne(ctx, l.db.db, q, now, key, slot, seen)
	if err != nil {
		return false, err
	}
	return n == 1, nil
}
