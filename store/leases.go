package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"gridbot/bot"
)

var _ bot.Leases = (*Leases)(nil)

// Leases elect one holder of a named role across instances through a row
// per name (bot.Leases). The epoch grows by one on every change of holder,
// so it fences out a former holder that has not noticed it lost the lease.
type Leases struct {
	db *DB
}

// Acquire takes the lease name for owner until now+ttl, or renews it when
// owner holds it already. ok reports whether owner holds it now; epoch is the
// lease's current fencing token (it changes only when the holder changes).
func (l *Leases) Acquire(ctx context.Context, name, owner string, ttl time.Duration) (ok bool, epoch int64, err error) {
	if err := checkKey("lease name", name); err != nil {
		return false, 0, err
	}
	if err := checkKey("lease owner", owner); err != nil {
		return false, 0, err
	}
	if ttl <= 0 {
		return false, 0, bot.Errorf(bot.EINVALID, "store: lease ttl must be positive, got %v", ttl)
	}
	for range 2 {
		var missing bool
		err = retryTx(func() (err error) {
			ok, epoch, missing, err = l.acquire(ctx, name, owner, ttl)
			return err
		})
		if err != nil || !missing {
			return ok, epoch, translate(err)
		}
		if err := l.create(ctx, name); err != nil {
			return false, 0, err
		}
	}
	return false, 0, bot.Errorf(bot.EINTERNAL, "store: lease %q vanished", name)
}

// acquire takes or renews the lease in one transaction; missing reports
// that there is no row for name yet.
func (l *Leases) acquire(ctx context.Context, name, owner string, ttl time.Duration) (ok bool, epoch int64, missing bool, err error) {
	// epoch comes first: MySQL evaluates single-table assignments left to
	// right, so after holder = ? the CASE would already see the new holder.
	const qTake = `UPDATE leases SET epoch = epoch + CASE WHEN holder = ? THEN 0 ELSE 1 END, holder = ?, until_ms = ?
		WHERE name = ? AND (holder = ? OR until_ms < ?)`
	const qEpoch = `SELECT epoch FROM leases WHERE name = ?`

	tx, now, err := l.db.begin(ctx)
	if err != nil {
		return false, 0, false, err
	}
	defer tx.Rollback()

	// On MySQL, rows affected are rows matched (clientFoundRows), so a
	// renewal that changes nothing within the same millisecond still counts.
	n, err := execOne(ctx, tx, qTake, owner, owner, toMS(now.Add(ttl)), name, owner, toMS(now))
	if err != nil {
		return false, 0, false, err
	}
	err = tx.GetContext(ctx, &epoch, qEpoch, name)
	if errors.Is(err, sql.ErrNoRows) {
		return false, 0, true, nil
	}
	if err != nil {
		return false, 0, false, err
	}
	if err := tx.Commit(); err != nil {
		return false, 0, false, err
	}
	return n == 1, epoch, false, nil
}

// create makes the row of name, free, if it does not exist. It runs on its
// own: inserting inside the transaction, into the gap its UPDATE locked,
// deadlocks concurrent first acquirers on MySQL.
func (l *Leases) create(ctx context.Context, name string) error {
	const qSQLite = `INSERT INTO leases (name, holder, until_ms, epoch) VALUES (?, '', 0, 0)
		ON CONFLICT (name) DO NOTHING`
	const qMySQL = `INSERT INTO leases (name, holder, until_ms, epoch) VALUES (?, '', 0, 0)
		ON DUPLICATE KEY UPDATE name = name`
	err := retryTx(func() error {
		_, err := l.db.db.ExecContext(ctx, l.db.dialect(qSQLite, qMySQL), name)
		return err
	})
	return translate(err)
}

// Release gives the lease up if owner holds it; otherwise it does nothing.
func (l *Leases) Release(ctx context.Context, name, owner string) error {
	const q = `UPDATE leases SET holder = '', until_ms = 0 WHERE name = ? AND holder = ?`
	if owner == "" {
		return bot.Errorf(bot.EINVALID, "store: empty lease owner")
	}
	_, err := execOne(ctx, l.db.db, q, name, owner)
	return err
}
