package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// stats are what one load run measured.
type stats struct {
	Sent      int            // requests answered or failed
	OK        int            // answered 200
	ByStatus  map[string]int // every other outcome: "500", "timeout", "connection refused" …
	Elapsed   time.Duration  // from the first scheduled request to the last answer
	Latencies []time.Duration
}

// Throughput is acknowledged callbacks a second.
func (s stats) Throughput() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.OK) / s.Elapsed.Seconds()
}

// Percentile returns the p-th percentile (0–100) of the 200s' latency.
func (s stats) Percentile(p float64) time.Duration {
	if len(s.Latencies) == 0 {
		return 0
	}
	i := int(float64(len(s.Latencies)-1) * p / 100)
	return s.Latencies[i]
}

// outcome is one request's result.
type outcome struct {
	status string // "200" or what went wrong
	lat    time.Duration
	at     time.Time // when the answer came
}

// loader sends one run of load at one target.
type loader struct {
	target  string
	gen     *generator
	client  *http.Client
	rate    int
	conc    int
	seed    uint64
	timeout time.Duration
}

func newLoader(target string, gen *generator, c config) *loader {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        c.Conc + 16,
		MaxIdleConnsPerHost: c.Conc + 16,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &loader{target: target, gen: gen, client: &http.Client{Transport: tr, Timeout: c.Timeout},
		rate: c.Rate, conc: c.Conc, seed: c.Seed, timeout: c.Timeout}
}

// close drops the idle connections.
func (l *loader) close() { l.client.CloseIdleConnections() }

// run sends load for d and measures it.
func (l *loader) run(ctx context.Context, d time.Duration) stats {
	if l.rate > 0 {
		return l.openLoop(ctx, d)
	}
	return l.closedLoop(ctx, d)
}

// openLoop sends rate requests a second on a fixed schedule, whatever the
// answers do, and measures each latency from its scheduled time, so that a
// stall shows in the figures instead of slowing the load down.
func (l *loader) openLoop(ctx context.Context, d time.Duration) stats {
	total := int(float64(l.rate) * d.Seconds())
	jobs := make(chan time.Time, total)
	results := make(chan outcome, total)
	var wg sync.WaitGroup
	for w := range l.conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(l.seed, uint64(w)))
			for at := range jobs {
				results <- l.send(ctx, rnd, at)
			}
		}()
	}
	// The queue holds the whole schedule: a request the workers cannot start
	// on time waits there, and its latency, counted from its slot, shows it.
	start := time.Now()
	interval := time.Second / time.Duration(l.rate)
schedule:
	for i := range total {
		at := start.Add(time.Duration(i) * interval)
		if wait := time.Until(at); wait > 0 {
			select {
			case <-ctx.Done():
				break schedule
			case <-time.After(wait):
			}
		}
		jobs <- at
	}
	close(jobs)
	wg.Wait()
	close(results)
	return collect(results, start)
}

// closedLoop runs conc workers that each send, wait for the answer and
// send again, until d is over.
func (l *loader) closedLoop(ctx context.Context, d time.Duration) stats {
	results := make(chan outcome, 1<<16)
	start := time.Now()
	end := start.Add(d)
	var wg sync.WaitGroup
	for w := range l.conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(l.seed, uint64(w)))
			for ctx.Err() == nil && time.Now().Before(end) {
				results <- l.send(ctx, rnd, time.Now())
			}
		}()
	}
	done := make(chan stats)
	go func() { done <- collect(results, start) }()
	wg.Wait()
	close(results)
	return <-done
}

// send makes and posts one callback; the latency runs from at.
func (l *loader) send(ctx context.Context, rnd *rand.Rand, at time.Time) outcome {
	cb, err := l.gen.make(rnd)
	if err != nil {
		return outcome{status: "seal: " + err.Error(), at: time.Now()}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.target+"?"+cb.query, strings.NewReader(string(cb.body)))
	if err != nil {
		return outcome{status: "request: " + err.Error(), at: time.Now()}
	}
	req.Header.Set("Content-Type", "text/xml")
	resp, err := l.client.Do(req)
	now := time.Now()
	if err != nil {
		return outcome{status: errorClass(err), lat: now.Sub(at), at: now}
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return outcome{status: strconv.Itoa(resp.StatusCode), lat: now.Sub(at), at: now}
}

// errorClass names a transport error briefly.
func errorClass(err error) string {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case strings.Contains(err.Error(), "connection refused"):
		return "connection refused"
	case strings.Contains(err.Error(), "connection reset"):
		return "connection reset"
	case strings.Contains(err.Error(), "EOF"):
		return "EOF"
	}
	return "error"
}

// collect reads every outcome into stats.
func collect(results <-chan outcome, start time.Time) stats {
	s := stats{ByStatus: map[string]int{}}
	last := start
	for o := range results {
		s.Sent++
		if o.at.After(last) {
			last = o.at
		}
		if o.status == "200" {
			s.OK++
			s.Latencies = append(s.Latencies, o.lat)
			continue
		}
		s.ByStatus[o.status]++
	}
	s.Elapsed = last.Sub(start)
	slices.Sort(s.Latencies)
	return s
}

// report prints s under name.
func (s stats) report(w io.Writer, name string) {
	fmt.Fprintf(w, "%-9s sent %d, answered 200: %d, throughput %.1f/s over %s\n", name+":", s.Sent, s.OK, s.Throughput(), s.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "%-9s ack latency p50 %s  p90 %s  p99 %s  max %s\n", "", ms(s.Percentile(50)), ms(s.Percentile(90)), ms(s.Percentile(99)), ms(s.Percentile(100)))
	if len(s.ByStatus) == 0 {
		fmt.Fprintf(w, "%-9s errors: none\n", "")
		return
	}
	var keys []string
	for k := range s.ByStatus {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, s.ByStatus[k]))
	}
	fmt.Fprintf(w, "%-9s errors: %s\n", "", strings.Join(parts, ", "))
}

// ms formats d in milliseconds with two decimals.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
}
