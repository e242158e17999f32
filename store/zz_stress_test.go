package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"gridbot/bot"
)

func TestZZStress(t *testing.T) {
	forEachSQL(t, func(t *testing.T, open opener) {
		e := open(t)
		in := e.db.Inbox()
		o := e.db.Outbox()
		for i := range 300 {
			_, err := in.Put(t.Context(), inboxRow(fmt.Sprint("s", i)))
			must(t, err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		seen := map[int64]int{}
		errs := []error{}
		for w := range 8 {
			wg.Go(func() {
				for {
					rows, err := in.Claim(context.Background(), fmt.Sprint("w", w), time.Minute, 5)
					if err != nil {
						mu.Lock(); errs = append(errs, err); mu.Unlock()
						return
					}
					if len(rows) == 0 {
						return
					}
					for _, r := range rows {
						mu.Lock(); seen[r.ID]++; mu.Unlock()
						err := in.Complete(context.Background(), r, func(tx bot.Tx) error {
							return tx.Enqueue(context.Background(), bot.NewTextMessage("r:"+r.DedupeKey, "u", "x"))
						})
						if err != nil {
							mu.Lock(); errs = append(errs, err); mu.Unlock()
						}
					}
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			t.Error(err)
		}
		if len(seen) != 300 {
			t.Fatalf("seen %d", len(seen))
		}
		for id, n := range seen {
			if n != 1 {
				t.Fatalf("row %d seen %d times", id, n)
			}
		}
		sent := map[int64]int{}
		for w := range 8 {
			wg.Go(func() {
				for {
					items, err := o.Claim(context.Background(), fmt.Sprint("d", w), time.Minute, 5)
					if err != nil {
						mu.Lock(); errs = append(errs, err); mu.Unlock()
						return
					}
					if len(items) == 0 {
						return
					}
					for _, it := range items {
						mu.Lock(); sent[it.ID]++; mu.Unlock()
						if err := o.MarkSent(context.Background(), it, nil); err != nil {
							mu.Lock(); errs = append(errs, err); mu.Unlock()
						}
					}
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			t.Error(err)
		}
		if len(sent) != 300 {
			t.Fatalf("sent %d", len(sent))
		}
		l := e.db.Leases()
		for round := range 20 {
			oks := 0
			for g := range 10 {
				wg.Go(func() {
					ok, _, err := l.Acquire(context.Background(), fmt.Sprint("lease", round), fmt.Sprint("n", g), time.Minute)
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						errs = append(errs, err)
					}
					if ok {
						oks++
					}
				})
			}
			wg.Wait()
			if oks != 1 {
				t.Fatalf("round %d: %d holders", round, oks)
			}
		}
		for _, err := range errs {
			t.Error(err)
		}
		rl := e.db.RateLimiter()
		won := 0
		for g := range 8 {
			wg.Go(func() {
				for range 50 {
					ok, _, err := rl.Acquire(context.Background(), "x", 20, time.Minute)
					mu.Lock()
					if err != nil {
						errs = append(errs, err)
					}
					if ok {
						won++
					}
					mu.Unlock()
				}
				_ = g
			})
		}
		wg.Wait()
		for _, err := range errs {
			t.Error(err)
		}
		if won != 20 {
			t.Errorf("rate won %d", won)
		}
	})
}
