package store

import (
	"context"

	"gridbot/bot"
)

// Requeue puts every dead outbox item back as pending, to be tried again
// from its first attempt. It returns how many.
func (o *Outbox) Requeue(ctx context.Context) (int64, error) {
	const q = `UPDATE outbox SET state = 'pending', attempts = 0, next_at = ?, lease_owner = '', lease_until = 0
		WHERE state = 'dead'`
	res, err := o.db.db.ExecContext(ctx, q, toMS(o.db.Now()))
	if err != nil {
		return 0, translate(err)
	}
	n, err := res.RowsAffected()
	return n, translate(err)
}

// Requeue puts every dead inbox row back as new. It returns how many.
func (in *Inbox) Requeue(ctx context.Context) (int64, error) {
	const q = `UPDATE inbox SET state = ?, attempts = 0, lease_owner = '', lease_until = 0 WHERE state = ?`
	res, err := in.db.db.ExecContext(ctx, q, bot.InNew, bot.InDead)
	if err != nil {
		return 0, translate(err)
	}
	n, err := res.RowsAffected()
	return n, translate(err)
}
