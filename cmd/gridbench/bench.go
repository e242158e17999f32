package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"time"
)

// bench runs the load against gridbot and then the baseline, prints both,
// and ends with the ratio line.
func bench(ctx context.Context, c config, w io.Writer) error {
	gen, err := newGenerator(c)
	if err != nil {
		return err
	}
	mode := fmt.Sprintf("%d/s open loop, up to %d in flight", c.Rate, c.Conc)
	if c.Rate == 0 {
		mode = fmt.Sprintf("as fast as possible, %d workers (closed loop)", c.Conc)
	}
	fmt.Fprintf(w, "gridbench: %s for %s after %s warm-up; mix %s; GOMAXPROCS %d\n", mode, c.Duration, c.Warmup, c.Mix, runtime.GOMAXPROCS(0))

	target := c.URL
	var proc *spawned
	if c.Spawn {
		if proc, err = spawn(ctx, c); err != nil {
			return err
		}
		defer proc.stop(c.Keep)
		target = proc.base + "/wecom/callback"
		fmt.Fprintf(w, "gridbot:  spawned %s (pid %d) at %s; store %s; wecom %s\n", c.Bin, proc.cmd.Process.Pid, proc.base, proc.store, c.WeCom)
		if c.Keep {
			fmt.Fprintf(w, "gridbot:  its directory (log, data) is kept: %s\n", proc.dir)
		}
	} else {
		fmt.Fprintf(w, "gridbot:  %s\n", target)
	}

	var idle int64
	var sampler *rssSampler
	if proc != nil {
		idle, err = rss(proc.cmd.Process.Pid)
		if err != nil {
			return err
		}
	}
	gs := measure(ctx, target, gen, c, func() {
		if proc != nil {
			sampler = sampleRSS(proc.cmd.Process.Pid, 50*time.Millisecond)
		}
	})
	gs.report(w, "gridbot")
	if proc != nil {
		select {
		case <-proc.exited:
			return fmt.Errorf("the spawned gridbot exited during the run (%v); the end of its log:\n%s", proc.waitErr, tail(proc.logPath, 30))
		default:
		}
	}
	if proc != nil && c.Drain > 0 {
		took, left, err := waitDrained(ctx, proc.base, c.Drain)
		switch {
		case err != nil:
			fmt.Fprintf(w, "%-9s inbox: cannot read /metrics: %v\n", "", err)
		case left == 0:
			fmt.Fprintf(w, "%-9s inbox: every acknowledged callback processed %s after the load ended\n", "", took.Round(100*time.Millisecond))
		default:
			fmt.Fprintf(w, "%-9s inbox: %d callbacks still unprocessed %s after the load ended\n", "", left, took.Round(100*time.Millisecond))
		}
	}
	if sampler != nil {
		fmt.Fprintf(w, "%-9s RSS idle %s, max under load %s\n", "", mb(idle), mb(sampler.Stop()))
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if proc != nil {
		// The baseline gets the machine to itself: a gridbot still working
		// through its inbox would take CPU from it and flatter the ratio.
		proc.stop(c.Keep)
	}

	ratio := "n/a (no baseline)"
	if c.Baseline {
		b, err := newBaseline(c)
		if err != nil {
			return err
		}
		url, stop, err := b.serve()
		if err != nil {
			return err
		}
		bs := measure(ctx, url, gen, c, nil)
		stop()
		bs.report(w, "baseline")
		if bs.Throughput() > 0 {
			ratio = fmt.Sprintf("%.2f", gs.Throughput()/bs.Throughput())
		}
	}
	fmt.Fprintf(w, "gridbot/baseline throughput ratio: %s\n", ratio)
	return nil
}

// measure warms target up, calls started, then runs the measured load.
func measure(ctx context.Context, target string, gen *generator, c config, started func()) stats {
	l := newLoader(target, gen, c)
	defer l.close()
	if c.Warmup > 0 {
		l.run(ctx, c.Warmup)
	}
	if started != nil {
		started()
	}
	return l.run(ctx, c.Duration)
}
