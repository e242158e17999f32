package bot

import (
	"context"
	"time"
)

// Inbox states.
const (
	InNew     = "new"     // committed, not yet processed
	InWorking = "working" // claimed under a lease (or waiting out a retry delay)
	InDone    = "done"    // processed: its effects are committed
	InDead    = "dead"    // failed too many times: visible, counted
)

// InboxRow is one acknowledged callback: the decrypted plaintext, committed
// before WeCom got its 200.
type InboxRow struct {
	ID          int64
	DedupeKey   string // MsgId, or a hash of the plaintext for events
	Kind        Kind
	UserID      string
	Payload     []byte // the decrypted XML, exactly as WeCom sent it
	State       string
	Attempts    int
	LastError   string
	ReceivedAt  time.Time
	ProcessedAt time.Time
	LeaseOwner  string
	LeaseExpiry time.Time
}

// Inbox is the durable store of acknowledged callbacks.
type Inbox interface {
	// Put commits row; inserted is false when its DedupeKey was already there
	// (a retried delivery), in which case nothing changes.
	Put(ctx context.Context, row InboxRow) (inserted bool, err error)
	// Claim leases up to limit rows that are new or whose lease has run out.
	Claim(ctx context.Context, owner string, lease time.Duration, limit int) ([]InboxRow, error)
	// Complete runs fn in one transaction with marking row done; it fails
	// with ECONFLICT, changing nothing, when the caller no longer holds the
	// row's lease.
	Complete(ctx context.Context, row InboxRow, fn func(Tx) error) error
	// Fail records err on row. It is taken again after retryAfter, or goes
	// dead when dead is true.
	Fail(ctx context.Context, row InboxRow, cause string, retryAfter time.Duration, dead bool) error
	// Stats counts rows by state and gives the age of the oldest unfinished one.
	Stats(ctx context.Context) (InboxStats, error)
}

// InboxStats is what the metrics show of the inbox.
type InboxStats struct {
	ByState      map[string]int
	OldestUndone time.Duration // 0 when nothing waits
}

// Tx is the unit of work a processed callback (or a sweep) commits in one
// go: case changes and the outbound calls they cause.
type Tx interface {
	// Enqueue adds outbound calls; an item whose Key exists is skipped.
	Enqueue(ctx context.Context, items ...OutboxItem) error
	// Now is the one timestamp of this transaction.
	Now() time.Time
	CaseRepo
	RhythmRepo
}

// Outbox is the durable queue of WeCom calls.
type Outbox interface {
	// Enqueue adds items in their own transaction (for work with no other change).
	Enqueue(ctx context.Context, items ...OutboxItem) error
	// Claim leases up to limit items that are due.
	Claim(ctx context.Context, owner string, lease time.Duration, limit int) ([]OutboxItem, error)
	// MarkSent records success; ECONFLICT if the lease was lost.
	MarkSent(ctx context.Context, item OutboxItem, result []byte) error
	// Retry counts a failed attempt and sets the next one at next.
	Retry(ctx context.Context, item OutboxItem, errCode int, cause string, next time.Time) error
	// Defer puts the item back until next without counting an attempt (a rate limit).
	Defer(ctx context.Context, item OutboxItem, next time.Time) error
	// Dead moves the item to the dead letters.
	Dead(ctx context.Context, item OutboxItem, errCode int, cause string) error
	// Get returns one item by id.
	Get(ctx context.Context, id int64) (OutboxItem, error)
	// List returns items in a state (all states when state is ""), oldest first.
	List(ctx context.Context, state string, limit int) ([]OutboxItem, error)
	// Depth counts items by state.
	Depth(ctx context.Context) (map[string]int, error)
}

// RateLimiter admits sends under a sliding window shared by every instance.
type RateLimiter interface {
	// Acquire takes one of limit slots of key for window. When none is free it
	// returns ok=false and when the oldest slot frees.
	Acquire(ctx context.Context, key string, limit int, window time.Duration) (ok bool, retryAt time.Time, err error)
}

// Leases elect one holder of a named role (the scheduler) across instances.
type Leases interface {
	// Acquire takes or renews the lease; ok reports whether owner holds it
	// now, epoch is a fencing token that grows on every change of holder.
	Acquire(ctx context.Context, name, owner string, ttl time.Duration) (ok bool, epoch int64, err error)
	// Release gives the lease up if owner holds it.
	Release(ctx context.Context, name, owner string) error
}

// KV is a small key-value store with expiry: sessions and the token cache.
// It has a Redis and an SQL implementation behind the same contract.
type KV interface {
	Get(ctx context.Context, key string) (value []byte, ok bool, err error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	Delete(ctx context.Context, key string) error
}

// Sender performs the WeCom call of one outbox item and returns its result
// as JSON (SendResult or MediaResult). A failure is a *SendError whose class
// says whether to retry.
type Sender interface {
	Send(ctx context.Context, item OutboxItem) (result []byte, err error)
}
