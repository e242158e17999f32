package bot

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Sweeper chases deadlines: it reminds before a case is due and, when it is
// overdue, escalates it one level and tells the chiefs. One instance leads
// (a lease row in SQL); every change is a compare-and-set on the case
// version and every message is keyed by it, so a restart or a second
// instance never reminds or escalates twice.
type Sweeper struct {
	Cases    Cases
	Leases   Leases
	Service  *Service
	Clock    Clock
	Owner    string
	Every    time.Duration // default 30 s
	OnCommit func()        // wakes the dispatcher

	once sync.Once
}

// LeaseScheduler is the lease the leading instance holds.
const LeaseScheduler = "scheduler"

func (w *Sweeper) init() {
	w.once.Do(func() {
		if w.Every <= 0 {
			w.Every = 30 * time.Second
		}
		if w.Clock == nil {
			w.Clock = ClockFunc(time.Now)
		}
	})
}

// Run sweeps every Every until ctx ends.
func (w *Sweeper) Run(ctx context.Context) {
	w.init()
	t := time.NewTicker(w.Every)
	defer t.Stop()
	for {
		_, _ = w.RunOnce(ctx)
		select {
		case <-ctx.Done():
			_ = w.Leases.Release(context.WithoutCancel(ctx), LeaseScheduler, w.Owner)
			return
		case <-t.C:
		}
	}
}

// RunOnce sweeps the cases due now if this instance leads; it returns how
// many it changed.
func (w *Sweeper) RunOnce(ctx context.Context) (int, error) {
	w.init()
	ok, _, err := w.Leases.Acquire(ctx, LeaseScheduler, w.Owner, 3*w.Every)
	if err != nil || !ok {
		return 0, err
	}
	now := w.Clock.Now()
	due, err := w.Cases.Due(ctx, now, 200)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, k := range due {
		changed := false
		err := w.Cases.InTx(ctx, func(tx Tx) error {
			var err error
			changed, err = w.sweep(ctx, tx, k.ID)
			return err
		})
		if err != nil && !isConflict(err) {
			return n, err
		}
		if err == nil && changed {
			n++
		}
	}
	if n > 0 && w.OnCommit != nil {
		w.OnCommit()
	}
	return n, nil
}

// sweep reminds or escalates one case, as the clock says.
func (w *Sweeper) sweep(ctx context.Context, tx Tx, id int64) (bool, error) {
	s := w.Service
	now := tx.Now()
	kase, err := tx.GetCase(ctx, id)
	if err != nil {
		return false, err
	}
	in := Input{Actor: "system", Rels: []Rel{RelSystem}}
	switch {
	case !kase.Status.Open():
		return false, nil
	case !kase.DueAt.IsZero() && !now.Before(kase.DueAt):
		in.Action = ActOverdue
		if kase.Status == StReported || kase.Status == StStation {
			in.Assignee = s.officer(kase.District, kase.Dept)
		}
	case !kase.RemindAt.IsZero() && !now.Before(kase.RemindAt):
		in.Action = ActRemind
	default:
		return false, nil
	}
	key := fmt.Sprintf("sweep:%s:%d:%d", in.Action, kase.ID, kase.DueAt.UnixMilli())
	out, err := Step(kase, in, s.Policy, now)
	if err != nil {
		return false, err
	}
	if err := tx.UpdateCase(ctx, out.Case); err != nil {
		return false, err
	}
	ev := out.Event
	ev.Key = key
	if err := tx.AddEvent(ctx, ev); err != nil {
		return false, err
	}
	notices := out.Notices
	if in.Action == ActOverdue && out.Case.Status != kase.Status {
		// The new holder gets the card of its level.
		switch out.Case.Status {
		case StGuidance:
			notices = append(notices, Notice{ToAssignee, CardGuidance})
		case StCommittee:
			notices = append(notices, Notice{ToCommittee, CardCommittee})
		}
	}
	return true, s.notify(ctx, tx, now, out.Case, in, notices, key)
}
