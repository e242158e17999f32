// Command gridbench drives gridbot's WeCom callback with load, the way
// WeCom sends it (signed, encrypted, retried), and compares it with a bare
// baseline: an in-process plain net/http handler that only checks the
// signature, decrypts and parses with the same crypto, answering on its own
// loopback port. Its last line is always
//
//	gridbot/baseline throughput ratio: X.XX
//
// Against a running gridbot:
//
//	gridbench -url http://127.0.0.1:8080/wecom/callback -rate 1000 -d 30s
//
// Or gridbench starts gridbot itself from a binary it is given (it builds
// nothing), on a free loopback port with a temporary SQLite file (or the
// GRIDBOT_MYSQL_DSN and GRIDBOT_REDIS_ADDR it is run with), samples its RSS
// from /proc, and stops it afterwards:
//
//	go build -o /tmp/gridbot ./cmd/gridbot
//	gridbench -spawn -bin /tmp/gridbot -rate 0 -c 64 -d 20s
//
// -rate N sends N callbacks a second on a fixed schedule (open loop: a slow
// answer does not delay the next request; latency runs from the scheduled
// time). -rate 0 sends as fast as -c workers can, each waiting for its
// answer. -mix sets the shares of roster members' reports, strangers'
// texts, card taps and retried deliveries. With -spawn, the spawned gridbot
// sends its replies to a fake WeCom gridbench serves on loopback (-wecom
// fake; -wecom sim keeps gridbot's own simulator), gridbench then waits up
// to -drain for gridbot to process every acknowledged callback (read from
// /metrics), and stops gridbot before it measures the baseline. Only
// loopback targets are accepted. cmd/gridbench/RESULTS.md has the figures.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gridbench:", err)
		os.Exit(1)
	}
}

// run is the whole program, with its environment passed in.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, getenv, stderr)
	if err != nil {
		return err
	}
	return bench(ctx, cfg, stdout)
}
