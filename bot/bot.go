package bot

import "context"

// Delivery is one inbox row handed to the bot: the parsed callback, the
// key that makes everything it causes idempotent, and the sender's session.
type Delivery struct {
	InboxID   int64
	DedupeKey string
	Msg       Inbound
	Session   *Session // loaded by a SessionHandler's Before, else nil
	dirty     bool
}

// Handler decides what a callback causes and writes it through tx. It must
// do all of its effects through tx, so that they commit together with the
// inbox row being marked done — once, or not at all.
type Handler interface {
	Handle(ctx context.Context, tx Tx, d *Delivery) error
}

// SessionHandler is a Handler that keeps per-user state outside the
// transaction (in Redis, or the SQL store's session table): Before loads
// it, After saves it once the transaction has committed.
type SessionHandler interface {
	Handler
	Before(ctx context.Context, d *Delivery) error
	After(ctx context.Context, d *Delivery) error
}
