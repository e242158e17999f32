package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime/debug"
	"time"
)

// debugMux serves Go's profiles, for an operator on the same machine:
// `go tool pprof http://127.0.0.1:6060/debug/pprof/profile?seconds=10`.
func debugMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// serveDebug serves debugMux on addr (a loopback address; Validate
// refuses others) until ctx ends.
func serveDebug(ctx context.Context, addr string, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: debugMux(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	log.Info("profiles", "listen", "http://"+ln.Addr().String()+"/debug/pprof/")
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("debug listener", "err", err)
		}
	}()
	return nil
}

// Garbage collector defaults of `gridbot serve`, unless GOGC or GOMEMLIMIT
// set them. gridbot's live heap is a few megabytes, so at Go's default
// (GOGC=100) a burst of callbacks, each allocating a few kilobytes while it
// is decrypted and parsed, runs dozens of collections a second; at 400 the
// collector runs a quarter as often (about +17% acknowledgements a second
// at full load, RSS under load 44 → 65 MB; cmd/gridbench/RESULTS.md). The
// soft limit makes it collect harder before the heap passes 256 MiB,
// whatever GOGC allows, when an export holds a large month in memory.
const (
	gcPercent   = 400
	memoryLimit = 256 << 20
)

// tuneGC applies the defaults above where the environment is silent.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}
