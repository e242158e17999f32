package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"strings"
	"testing"
)

// The debug listener serves Go's profiles, and nothing of gridbot's own.
func TestDebugMuxServesProfiles(t *testing.T) {
	srv := httptest.NewServer(debugMux())
	defer srv.Close()
	res, err := http.Get(srv.URL + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine") {
		t.Fatalf("GET /debug/pprof/: %d\n%s", res.StatusCode, body)
	}
	res, err = http.Get(srv.URL + "/api/cases")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("GET /api/cases on the debug listener: %d, want 404", res.StatusCode)
	}
}

// serve's collector defaults apply only where GOGC and GOMEMLIMIT are silent.
func TestTuneGCDefaultsAndOverrides(t *testing.T) {
	prevPercent := debug.SetGCPercent(100)
	prevLimit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetGCPercent(prevPercent); debug.SetMemoryLimit(prevLimit) })

	debug.SetGCPercent(100)
	debug.SetMemoryLimit(1 << 40)
	tuneGC(env(nil))
	if got := debug.SetGCPercent(100); got != gcPercent {
		t.Errorf("GC percent %d, want %d", got, gcPercent)
	}
	if got := debug.SetMemoryLimit(1 << 40); got != memoryLimit {
		t.Errorf("memory limit %d, want %d", got, memoryLimit)
	}

	debug.SetGCPercent(123)
	debug.SetMemoryLimit(1 << 40)
	tuneGC(env(map[string]string{"GOGC": "123", "GOMEMLIMIT": "1TiB"}))
	if got := debug.SetGCPercent(100); got != 123 {
		t.Errorf("GOGC set: GC percent %d, want it left at 123", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 1<<40 {
		t.Errorf("GOMEMLIMIT set: memory limit %d, want it left alone", got)
	}
}
