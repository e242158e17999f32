// Package bottest holds in-memory implementations of bot's storage
// interfaces for tests: real implementations that keep their data in
// memory, not mocks.
package bottest

import (
	"context"
	"slices"
	"sync"
	"time"

	"gridbot/bot"
)

var _ bot.Rhythm = (*Rhythm)(nil)

// Rhythm keeps patrols, visits and activities in memory (bot.Rhythm). The
// zero value is empty and ready; it is safe for concurrent use.
type Rhythm struct {
	mu         sync.Mutex
	patrols    []bot.Patrol
	visits     []bot.Visit
	activities []bot.Activity
}

// AddPatrols records patrols, numbering those without an ID.
func (r *Rhythm) AddPatrols(ps ...bot.Patrol) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range ps {
		if p.ID == 0 {
			p.ID = int64(len(r.patrols) + 1)
		}
		r.patrols = append(r.patrols, p)
	}
}

// AddVisits records visits, numbering those without an ID.
func (r *Rhythm) AddVisits(vs ...bot.Visit) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range vs {
		if v.ID == 0 {
			v.ID = int64(len(r.visits) + 1)
		}
		r.visits = append(r.visits, v)
	}
}

// AddActivities records activities, numbering those without an ID.
func (r *Rhythm) AddActivities(as ...bot.Activity) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range as {
		if a.ID == 0 {
			a.ID = int64(len(r.activities) + 1)
		}
		r.activities = append(r.activities, a)
	}
}

// within returns the items whose time is in [from, to), oldest first (then
// by id), as the SQL store orders them.
func within[T any](items []T, at func(T) time.Time, id func(T) int64, from, to time.Time) []T {
	var out []T
	for _, x := range items {
		if t := at(x); !t.Before(from) && t.Before(to) {
			out = append(out, x)
		}
	}
	slices.SortStableFunc(out, func(a, b T) int {
		if c := at(a).Compare(at(b)); c != 0 {
			return c
		}
		return int(id(a) - id(b))
	})
	return out
}

// Patrols returns the patrols started within [from, to), oldest first.
func (r *Rhythm) Patrols(ctx context.Context, from, to time.Time) ([]bot.Patrol, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return within(r.patrols, func(p bot.Patrol) time.Time { return p.StartedAt }, func(p bot.Patrol) int64 { return p.ID }, from, to), nil
}

// Visits returns the visits signed within [from, to), oldest first.
func (r *Rhythm) Visits(ctx context.Context, from, to time.Time) ([]bot.Visit, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return within(r.visits, func(v bot.Visit) time.Time { return v.At }, func(v bot.Visit) int64 { return v.ID }, from, to), nil
}

// Activities returns the activities recorded within [from, to), oldest first.
func (r *Rhythm) Activities(ctx context.Context, from, to time.Time) ([]bot.Activity, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return within(r.activities, func(a bot.Activity) time.Time { return a.At }, func(a bot.Activity) int64 { return a.ID }, from, to), nil
}
