package bot

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Observer is told what the workers do, for metrics. NopObserver ignores it.
type Observer interface {
	InboxDone(kind Kind, result string)     // ok, retry, dead, conflict
	OutboxDone(kind OutKind, result string) // sent, retry, deferred, dead, conflict
}

// NopObserver observes nothing.
type NopObserver struct{}

// InboxDone implements Observer.
func (NopObserver) InboxDone(Kind, string) {}

// OutboxDone implements Observer.
func (NopObserver) OutboxDone(OutKind, string) {}

// Processor takes acknowledged callbacks from the inbox and lets the
// Handler act on them, one transaction per callback.
type Processor struct {
	Inbox       Inbox
	Handler     Handler
	Parse       func(plain []byte) (Inbound, error)
	Owner       string        // this instance's name in leases
	Lease       time.Duration // how long a claim holds (default 1 min)
	Batch       int           // rows per claim (default 32)
	MaxAttempts int           // then the row goes dead (default 10)
	Poll        time.Duration // how often to look when not woken (default 1 s)
	Observer    Observer
	OnCommit    func() // called after a row's effects commit (wakes the dispatcher)
	// Users, when set, serialises one member's rows across instances with a
	// short lease per member, so that two instances never read and write
	// the same member's session at once.
	Users Leases
	// Parallel is how many members' rows are processed at once (default 1).
	// One member's rows always go one after another in the order received:
	// each claimed batch is split into lanes by member, a lane per
	// goroutine, and the next batch is claimed once every lane is done.
	// Worth more than 1 where a commit waits on a server (MySQL); SQLite has
	// one writer.
	Parallel int
	// Yield, when set, reports that acknowledgements are queueing behind a
	// burst of callbacks. The processor then waits before each row, up to
	// MaxYield a row, so that WeCom's answers come first; it never stops,
	// and after the burst it takes the backlog at full speed.
	Yield    func() bool
	MaxYield time.Duration // default 100 ms

	wake chan struct{}
	once sync.Once
}

func (p *Processor) init() {
	p.once.Do(func() {
		p.wake = make(chan struct{}, 1)
		if p.Lease <= 0 {
			p.Lease = time.Minute
		}
		if p.Batch <= 0 {
			p.Batch = 32
		}
		if p.MaxAttempts <= 0 {
			p.MaxAttempts = 20
		}
		if p.Poll <= 0 {
			p.Poll = time.Second
		}
		if p.Observer == nil {
			p.Observer = NopObserver{}
		}
		if p.Parallel <= 0 {
			p.Parallel = 1
		}
		if p.MaxYield <= 0 {
			p.MaxYield = 100 * time.Millisecond
		}
	})
}

// Notify wakes the processor: a row was just committed.
func (p *Processor) Notify() {
	p.init()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run processes until ctx ends.
func (p *Processor) Run(ctx context.Context) {
	p.init()
	runLoop(ctx, p.wake, p.Poll, p.Batch, p.RunOnce)
}

// RunOnce claims one batch and processes it; it returns how many rows it took.
func (p *Processor) RunOnce(ctx context.Context) (int, error) {
	p.init()
	rows, err := p.Inbox.Claim(ctx, p.Owner, p.Lease, p.Batch)
	if err != nil {
		return 0, err
	}
	lanes := laneRows(rows, p.Parallel)
	if len(lanes) == 1 {
		p.processLane(ctx, lanes[0])
		return len(rows), nil
	}
	var wg sync.WaitGroup
	for _, lane := range lanes {
		wg.Go(func() { p.processLane(ctx, lane) })
	}
	wg.Wait()
	return len(rows), nil
}

// laneRows splits rows into at most n lanes by member, keeping their order:
// all rows of one member are in one lane. Empty lanes are left out.
func laneRows(rows []InboxRow, n int) [][]InboxRow {
	if n <= 1 || len(rows) <= 1 {
		return [][]InboxRow{rows}
	}
	lanes := make([][]InboxRow, n)
	for _, row := range rows {
		i := laneOf(row.UserID, n)
		lanes[i] = append(lanes[i], row)
	}
	out := lanes[:0]
	for _, l := range lanes {
		if len(l) > 0 {
			out = append(out, l)
		}
	}
	return out
}

// laneOf is a member's lane of n (FNV-1a of the user id).
func laneOf(user string, n int) int {
	h := uint32(2166136261)
	for i := 0; i < len(user); i++ {
		h ^= uint32(user[i])
		h *= 16777619
	}
	return int(h % uint32(n))
}

// processLane processes one lane's rows in order, yielding to
// acknowledgements before each.
func (p *Processor) processLane(ctx context.Context, rows []InboxRow) {
	for _, row := range rows {
		if ctx.Err() != nil {
			return // the rows keep their lease and are claimed again after it
		}
		p.yield(ctx)
		p.process(ctx, row)
	}
}

// yield waits while Yield reports acknowledgements queueing, at most
// MaxYield, asking again every 5 ms.
func (p *Processor) yield(ctx context.Context) {
	if p.Yield == nil {
		return
	}
	step := min(5*time.Millisecond, p.MaxYield)
	for waited := time.Duration(0); waited < p.MaxYield && p.Yield(); waited += step {
		t := time.NewTimer(step)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (p *Processor) process(ctx context.Context, row InboxRow) {
	msg, err := p.Parse(row.Payload)
	if err != nil { // a row that cannot be parsed will never be: keep it, dead
		_ = p.Inbox.Fail(ctx, row, "parse: "+err.Error(), 0, true)
		p.Observer.InboxDone(row.Kind, "dead")
		return
	}
	d := &Delivery{InboxID: row.ID, DedupeKey: row.DedupeKey, Msg: msg}
	if p.Users != nil && msg.UserID != "" {
		lease := "user:" + msg.UserID
		ok, _, err := p.Users.Acquire(ctx, lease, p.Owner, p.Lease)
		if err != nil || !ok {
			// Another instance is handling this member's previous message.
			_ = p.Inbox.Fail(ctx, row, "waiting for the member's previous message", 200*time.Millisecond, false)
			p.Observer.InboxDone(row.Kind, "busy")
			return
		}
		defer p.Users.Release(context.WithoutCancel(ctx), lease, p.Owner)
	}
	sh, withSession := p.Handler.(SessionHandler)
	if withSession {
		if err := sh.Before(ctx, d); err != nil {
			p.retry(ctx, row, err)
			return
		}
	}
	err = p.Inbox.Complete(ctx, row, func(tx Tx) error { return p.Handler.Handle(ctx, tx, d) })
	if err == nil && withSession {
		// The effects are committed; a session that fails to save loses a
		// half-assembled draft at worst, never a case or a message.
		_ = sh.After(ctx, d)
	}
	switch {
	case err == nil:
		p.Observer.InboxDone(row.Kind, "ok")
		if p.OnCommit != nil {
			p.OnCommit()
		}
	case ErrorCode(err) == ECONFLICT:
		// Our lease ran out and another worker has the row: it will finish it.
		p.Observer.InboxDone(row.Kind, "conflict")
	default:
		p.retry(ctx, row, err)
	}
}

// retry puts the row back for a later attempt. A row that failed because
// something was unavailable (a database, Redis) is never given up: it waits
// with a capped backoff until the dependency is back. Any other failure is
// a bug or bad data and goes dead after MaxAttempts, visible and counted.
func (p *Processor) retry(ctx context.Context, row InboxRow, err error) {
	if ErrorCode(err) != EUNAVAILABLE && row.Attempts >= p.MaxAttempts {
		_ = p.Inbox.Fail(ctx, row, err.Error(), 0, true)
		p.Observer.InboxDone(row.Kind, "dead")
		return
	}
	_ = p.Inbox.Fail(ctx, row, err.Error(), Backoff(row.Attempts, 100*time.Millisecond, time.Minute, rand.Float64()), false)
	p.Observer.InboxDone(row.Kind, "retry")
}

// Limit is a sliding-window rate limit: at most N calls in any Window.
type Limit struct {
	N      int
	Window time.Duration
}

// DefaultLimits are WeCom's, per recipient prefix: 30 app messages a minute
// to one member (the excess is silently dropped), 20 a minute per group
// robot, and a conservative 60 a minute per app chat.
func DefaultLimits() map[string]Limit {
	return map[string]Limit{
		"user":  {N: 30, Window: time.Minute},
		"robot": {N: 20, Window: time.Minute},
		"chat":  {N: 60, Window: time.Minute},
	}
}

// Dispatcher sends the outbox: claims due items under a lease, respects the
// rate limits, retries with exponential backoff and jitter, and moves
// permanent failures to the dead letters.
type Dispatcher struct {
	Outbox      Outbox
	Sender      Sender
	Limiter     RateLimiter      // shared per-recipient limits
	Limits      map[string]Limit // by recipient prefix (default DefaultLimits)
	AppRate     *rate.Limiter    // this instance's cap on calls per second (nil: none)
	Clock       Clock
	Owner       string
	Lease       time.Duration // default 1 min; longer than a call's timeout
	Batch       int           // default 64
	Parallel    int           // recipients sent at once (default 8)
	MaxAttempts int           // retryable failures before a dead letter; 0: never give up on them
	BaseBackoff time.Duration // default 2 s
	MaxBackoff  time.Duration // default 10 min
	Poll        time.Duration // default 1 s
	Observer    Observer
	Jitter      func() float64 // in [0,1); default math/rand
	// OnSent, when set, records a success before the item is marked sent
	// (media downloads are put on their cases this way); an error retries
	// the item, so nothing is marked sent that was not recorded.
	OnSent func(ctx context.Context, item OutboxItem, result []byte) error

	wake chan struct{}
	once sync.Once
}

func (d *Dispatcher) init() {
	d.once.Do(func() {
		d.wake = make(chan struct{}, 1)
		if d.Limits == nil {
			d.Limits = DefaultLimits()
		}
		if d.Clock == nil {
			d.Clock = ClockFunc(time.Now)
		}
		if d.Lease <= 0 {
			d.Lease = time.Minute
		}
		if d.Batch <= 0 {
			d.Batch = 64
		}
		if d.Parallel <= 0 {
			d.Parallel = 8
		}
		if d.BaseBackoff <= 0 {
			d.BaseBackoff = 2 * time.Second
		}
		if d.MaxBackoff <= 0 {
			d.MaxBackoff = 10 * time.Minute
		}
		if d.Poll <= 0 {
			d.Poll = time.Second
		}
		if d.Observer == nil {
			d.Observer = NopObserver{}
		}
		if d.Jitter == nil {
			d.Jitter = rand.Float64
		}
	})
}

// Notify wakes the dispatcher: something was just enqueued.
func (d *Dispatcher) Notify() {
	d.init()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run sends until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) {
	d.init()
	runLoop(ctx, d.wake, d.Poll, d.Batch, d.RunOnce)
}

// RunOnce claims one batch and sends it: items to one recipient in order,
// up to Parallel recipients at once. It returns how many items it took.
func (d *Dispatcher) RunOnce(ctx context.Context) (int, error) {
	d.init()
	items, err := d.Outbox.Claim(ctx, d.Owner, d.Lease, d.Batch)
	if err != nil {
		return 0, err
	}
	groups := map[string][]OutboxItem{}
	var order []string
	for _, it := range items {
		k := it.Recipient
		if k == "" {
			k = "#" + it.Key // unthrottled items go on their own
		}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], it)
	}
	sem := make(chan struct{}, d.Parallel)
	var wg sync.WaitGroup
	for _, k := range order {
		sem <- struct{}{}
		wg.Add(1)
		go func(list []OutboxItem) {
			defer func() { <-sem; wg.Done() }()
			for i, it := range list {
				if !it.LeaseExpiry.IsZero() && d.Clock.Now().After(it.LeaseExpiry.Add(-d.Lease/4)) {
					// The lease is nearly out: another dispatcher may take
					// these soon, so put them back rather than risk sending
					// them twice.
					for _, rest := range list[i:] {
						_ = d.Outbox.Defer(ctx, rest, d.Clock.Now())
					}
					return
				}
				if until, sent := d.send(ctx, it); !sent {
					// Rate-limited: the rest of this recipient's batch waits
					// too, so that its messages keep their order.
					for _, rest := range list[i+1:] {
						_ = d.Outbox.Defer(ctx, rest, until)
					}
					return
				}
			}
		}(groups[k])
	}
	wg.Wait()
	return len(items), nil
}

// send makes one attempt. When a rate limit defers the item instead it
// returns sent=false and when the item is due again.
func (d *Dispatcher) send(ctx context.Context, it OutboxItem) (until time.Time, sent bool) {
	if lim, ok := d.Limits[prefix(it.Recipient)]; ok && d.Limiter != nil {
		ok, retryAt, err := d.Limiter.Acquire(ctx, it.Recipient, lim.N, lim.Window)
		if err != nil {
			retryAt = d.Clock.Now().Add(d.BaseBackoff)
		}
		if err != nil || !ok {
			_ = d.Outbox.Defer(ctx, it, retryAt)
			d.Observer.OutboxDone(it.Kind, "deferred")
			return retryAt, false
		}
	}
	if d.AppRate != nil {
		if err := d.AppRate.Wait(ctx); err != nil {
			now := d.Clock.Now()
			_ = d.Outbox.Defer(ctx, it, now)
			return now, false
		}
	}
	result, err := d.Sender.Send(ctx, it)
	if err == nil && d.OnSent != nil {
		if err = d.OnSent(ctx, it, result); err != nil {
			err = &SendError{Class: SendRetry, Msg: "recording the result: " + err.Error()}
		}
	}
	if err == nil {
		if err := d.Outbox.MarkSent(ctx, it, result); err != nil {
			d.Observer.OutboxDone(it.Kind, "conflict")
			return time.Time{}, true
		}
		d.Observer.OutboxDone(it.Kind, "sent")
		return time.Time{}, true
	}
	class, code := ClassOf(err)
	attempts := it.Attempts + 1
	if class == SendPermanent || (d.MaxAttempts > 0 && attempts >= d.MaxAttempts) {
		_ = d.Outbox.Dead(ctx, it, code, err.Error())
		d.Observer.OutboxDone(it.Kind, "dead")
		return time.Time{}, true
	}
	next := d.Clock.Now().Add(Backoff(attempts, d.BaseBackoff, d.MaxBackoff, d.Jitter()))
	_ = d.Outbox.Retry(ctx, it, code, err.Error(), next)
	d.Observer.OutboxDone(it.Kind, "retry")
	return time.Time{}, true
}

func prefix(recipient string) string {
	p, _, _ := strings.Cut(recipient, ":")
	return p
}

// Backoff is the delay before attempt n+1: base·2^(n-1), capped, with full
// jitter over its upper half (j in [0,1)).
func Backoff(n int, base, max time.Duration, j float64) time.Duration {
	if n < 1 {
		n = 1
	}
	d := float64(base) * math.Pow(2, float64(n-1))
	if d > float64(max) {
		d = float64(max)
	}
	return time.Duration(d/2 + d/2*j)
}

// runLoop calls once until ctx ends: again at once after a full batch,
// else when woken or after poll.
func runLoop(ctx context.Context, wake <-chan struct{}, poll time.Duration, batch int, once func(context.Context) (int, error)) {
	t := time.NewTimer(poll)
	defer t.Stop()
	for ctx.Err() == nil {
		n, err := once(ctx)
		if err == nil && n >= batch {
			continue
		}
		if errors.Is(err, context.Canceled) {
			return
		}
		t.Reset(poll)
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-t.C:
		}
	}
}
