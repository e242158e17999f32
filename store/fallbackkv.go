package store

import (
	"context"
	"sync"
	"time"

	"gridbot/bot"
)

var _ bot.KV = (*FallbackKV)(nil)

// FallbackOptions configure a FallbackKV.
type FallbackOptions struct {
	// Window is how long after the primary last failed the fallback is
	// read first (default 1 h). It must be at least the longest TTL stored
	// (sessions: 30 min), so that what was written to the fallback during an
	// outage is still preferred to the primary's older copy until that copy
	// has expired. gridbot's sessions live up to 24 h (a patrol) and its
	// tokens 2 h: serve sets 25 h.
	Window time.Duration
	// Pause is how long after a failure the primary is left alone and every
	// call goes to the fallback at once (default 5 s), so that a dead Redis
	// costs one slow call now and then, not one per message.
	Pause time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// OnFallback, when set, is told of every primary failure that made the
	// store use the fallback (for a log line or a metric).
	OnFallback func(op string, err error)
}

// FallbackKV is a key-value store on a primary (Redis) that keeps working
// on a fallback (the SQL table of the same data) while the primary fails:
// a Redis outage must not stop the conversation. Without it a session read
// error makes every inbox row retry until Redis is back, so members get no
// answers for the length of the outage, although their callbacks were
// acknowledged and committed.
//
// While the primary answers, only the primary is used. When a call to it
// fails, the call is made on the fallback instead; for Pause the primary is
// not tried at all, and for Window the store is degraded: reads try the
// fallback first (a value there was written during the outage and is newer
// than the primary's), writes that reach the primary clear the fallback's
// copy first, and a delete the primary missed leaves a tombstone in the
// fallback, so that the primary's stale copy does not come back once it
// answers again. A caller whose context ended is not a primary failure.
//
// What this gives up, knowingly: a value written to the primary before the
// outage is not seen during it (a draft being assembled then is lost, as
// the Session doc allows: never a case or a message), and the degraded
// state is per process: an instance that made no call during the outage
// may read the primary's older copy of a key another instance wrote to the
// fallback, until it expires.
type FallbackKV struct {
	primary, fallback bot.KV
	opts              FallbackOptions

	mu       sync.Mutex
	failedAt time.Time // when the primary last failed; zero: never
}

// tombstone marks, in the fallback, a key deleted while the primary could
// not be told.
const tombstone = "\x00gridbot:deleted\x00"

// NewFallbackKV returns the store on primary that falls back to fallback.
func NewFallbackKV(primary, fallback bot.KV, opts FallbackOptions) *FallbackKV {
	if opts.Window <= 0 {
		opts.Window = time.Hour
	}
	if opts.Pause <= 0 {
		opts.Pause = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &FallbackKV{primary: primary, fallback: fallback, opts: opts}
}

// state reports whether the primary failed within the window, and whether
// within the pause, when it is not even tried.
func (kv *FallbackKV) state() (degraded, paused bool) {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	if kv.failedAt.IsZero() {
		return false, false
	}
	since := kv.opts.Now().Sub(kv.failedAt)
	return since < kv.opts.Window, since < kv.opts.Pause
}

// failed records a failure of the primary.
func (kv *FallbackKV) failed(op string, err error) {
	kv.mu.Lock()
	kv.failedAt = kv.opts.Now()
	kv.mu.Unlock()
	if kv.opts.OnFallback != nil {
		kv.opts.OnFallback(op, err)
	}
}

// fallBack tells a failure of the primary worth falling back for from a
// refusal of the request itself (a bad key) and from the caller giving up
// (ctx done), which the fallback would answer the same way.
func fallBack(ctx context.Context, err error) bool {
	return err != nil && bot.ErrorCode(err) != bot.EINVALID && ctx.Err() == nil
}

// Get returns the value of key; ok is false when there is none.
func (kv *FallbackKV) Get(ctx context.Context, key string) ([]byte, bool, error) {
	degraded, paused := kv.state()
	if degraded && !paused {
		v, ok, err := kv.fallback.Get(ctx, key)
		if err == nil && ok {
			if string(v) == tombstone {
				return nil, false, nil
			}
			return v, true, nil
		}
	}
	if !paused {
		v, ok, err := kv.primary.Get(ctx, key)
		if !fallBack(ctx, err) {
			return v, ok, err
		}
		kv.failed("get", err)
	}
	v, ok, err := kv.fallback.Get(ctx, key)
	if err != nil || !ok || string(v) == tombstone {
		return nil, false, err
	}
	return v, true, nil
}

// Set stores value under key for ttl.
func (kv *FallbackKV) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	degraded, paused := kv.state()
	if paused {
		return kv.fallback.Set(ctx, key, value, ttl)
	}
	if degraded {
		// The fallback's copy would shadow the new value: it goes first.
		if err := kv.fallback.Delete(ctx, key); err != nil {
			return err
		}
	}
	err := kv.primary.Set(ctx, key, value, ttl)
	if !fallBack(ctx, err) {
		return err
	}
	kv.failed("set", err)
	return kv.fallback.Set(ctx, key, value, ttl)
}

// Delete removes key.
func (kv *FallbackKV) Delete(ctx context.Context, key string) error {
	degraded, paused := kv.state()
	if degraded && !paused {
		if err := kv.fallback.Delete(ctx, key); err != nil {
			return err
		}
	}
	if !paused {
		err := kv.primary.Delete(ctx, key)
		if !fallBack(ctx, err) {
			return err
		}
		kv.failed("delete", err)
	}
	// The primary may still hold the key and answer with it later.
	return kv.fallback.Set(ctx, key, []byte(tombstone), kv.opts.Window)
}
