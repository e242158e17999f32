package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"gridbot/bot/wecom/wecomfake"
)

// spawned is a gridbot gridbench started and will stop.
type spawned struct {
	cmd     *exec.Cmd
	dir     string
	base    string // http://127.0.0.1:PORT
	logPath string
	store   string // what it stores in, for the report
	exited  chan struct{}
	waitErr error
	api     *http.Server // the fake WeCom, when gridbench serves it

	stopOnce sync.Once
}

// spawn starts c.Bin as `gridbot serve` on a free loopback port, in a
// temporary directory (its ./data holds the SQLite file and media), with
// GRIDBOT_MYSQL_DSN and GRIDBOT_REDIS_ADDR when set, and waits for /healthz.
func spawn(ctx context.Context, c config) (*spawned, error) {
	bin, err := filepath.Abs(c.Bin)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("-bin: %w", err)
	}
	dir, err := os.MkdirTemp("", "gridbench-")
	if err != nil {
		return nil, err
	}
	s := &spawned{dir: dir, logPath: filepath.Join(dir, "gridbot.log"), exited: make(chan struct{})}
	port, err := freePort()
	if err != nil {
		s.cleanup(c.Keep)
		return nil, err
	}
	s.base = "http://127.0.0.1:" + strconv.Itoa(port)
	env := append(os.Environ(),
		"GRIDBOT_LISTEN=127.0.0.1:"+strconv.Itoa(port),
		"GRIDBOT_SQLITE_PATH="+filepath.Join(dir, "data", "gridbot.db"),
		"GRIDBOT_WECOM_CORP_ID="+c.CorpID,
		"GRIDBOT_WECOM_AGENT_ID="+strconv.Itoa(c.AgentID),
		"GRIDBOT_WECOM_TOKEN="+c.Token,
		"GRIDBOT_WECOM_AES_KEY="+c.AESKey,
		"GRIDBOT_WECOM_SECRET="+c.Secret,
	)
	env = dropEnv(env, "GRIDBOT_MYSQL_DSN", "GRIDBOT_REDIS_ADDR", "GRIDBOT_WECOM_API_BASE")
	s.store = "SQLite " + filepath.Join(dir, "data", "gridbot.db")
	if c.MySQLDSN != "" {
		env = append(env, "GRIDBOT_MYSQL_DSN="+c.MySQLDSN)
		s.store = "MySQL"
	}
	if c.Redis != "" {
		env = append(env, "GRIDBOT_REDIS_ADDR="+c.Redis)
		s.store += ", sessions on Redis " + c.Redis
	}
	if c.WeCom == "fake" {
		apiURL, srv, err := serveFake(c)
		if err != nil {
			s.cleanup(c.Keep)
			return nil, err
		}
		s.api = srv
		env = append(env, "GRIDBOT_WECOM_API_BASE="+apiURL)
	}
	logf, err := os.Create(s.logPath)
	if err != nil {
		s.cleanup(c.Keep)
		return nil, err
	}
	defer logf.Close()
	s.cmd = exec.Command(bin, "serve")
	s.cmd.Dir, s.cmd.Env, s.cmd.Stdout, s.cmd.Stderr = dir, env, logf, logf
	if err := s.cmd.Start(); err != nil {
		s.cleanup(c.Keep)
		return nil, err
	}
	go func() { s.waitErr = s.cmd.Wait(); close(s.exited) }()
	if err := s.waitHealthy(ctx, 60*time.Second); err != nil {
		log := tail(s.logPath, 20)
		s.stop(c.Keep)
		return nil, fmt.Errorf("%w; the end of its log:\n%s", err, log)
	}
	return s, nil
}

// freePort finds a loopback port nobody listens on.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// dropEnv removes the named variables from env.
func dropEnv(env []string, names ...string) []string {
	out := env[:0:0]
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, n := range names {
			drop = drop || name == n
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}

// serveFake serves a fake WeCom API on a free loopback port, with the
// app's credentials, so that a spawned gridbot sends its replies out of
// process as it would to WeCom. The fake forgets its records now and then,
// so that gridbench's memory stays flat.
func serveFake(c config) (string, *http.Server, error) {
	fake := wecomfake.New(wecomfake.Options{CorpID: c.CorpID, CorpSecret: c.Secret, AgentID: c.AgentID,
		Robots: map[string]string{"committee": "demo-robot-committee"}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	var mu sync.Mutex
	n := 0
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		if n%20000 == 0 {
			fake.Reset()
		}
		mu.Unlock()
		fake.ServeHTTP(w, r)
	})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), srv, nil
}

// waitHealthy polls /healthz until it answers 200.
func (s *spawned) waitHealthy(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("gridbot exited: %v", s.waitErr)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		resp, err := client.Get(s.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("gridbot did not answer /healthz in time")
}

// stop sends SIGTERM, waits for the exit (SIGKILL after 20 s) and removes
// the directory unless keep. Only the first call does anything.
func (s *spawned) stop(keep bool) {
	s.stopOnce.Do(func() { s.stopNow(keep) })
}

func (s *spawned) stopNow(keep bool) {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(20 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	}
	s.cleanup(keep)
}

func (s *spawned) cleanup(keep bool) {
	if s.api != nil {
		s.api.Close()
	}
	if !keep {
		os.RemoveAll(s.dir)
	}
}

// tail returns the last n lines of the file at path.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log)"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// rss reads VmRSS of pid from /proc, in bytes.
func rss(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, err
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// rssSampler records the largest RSS of pid while it runs.
type rssSampler struct {
	mu   sync.Mutex
	max  int64
	stop chan struct{}
	done chan struct{}
}

// sampleRSS samples pid's RSS every interval until stopped.
func sampleRSS(pid int, interval time.Duration) *rssSampler {
	r := &rssSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			if v, err := rss(pid); err == nil {
				r.mu.Lock()
				r.max = max(r.max, v)
				r.mu.Unlock()
			}
			select {
			case <-r.stop:
				return
			case <-t.C:
			}
		}
	}()
	return r
}

// Stop ends the sampling and returns the largest RSS seen.
func (r *rssSampler) Stop() int64 {
	close(r.stop)
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.max
}

// mb formats bytes in MB (10^6) and MiB.
func mb(b int64) string {
	return fmt.Sprintf("%.1f MB (%.1f MiB)", float64(b)/1e6, float64(b)/(1<<20))
}

// inboxUndone reads gridbot_inbox_rows{state="new"|"working"} from
// /metrics: the acknowledged callbacks not yet processed.
func inboxUndone(ctx context.Context, base string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		for _, state := range []string{"new", "working"} {
			if v, ok := strings.CutPrefix(line, `gridbot_inbox_rows{state="`+state+`"} `); ok {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil {
					return 0, err
				}
				n += int(f)
			}
		}
	}
	return n, sc.Err()
}

// waitDrained polls /metrics until the inbox has nothing left to process
// or limit passes; it returns how long that took and what was left.
func waitDrained(ctx context.Context, base string, limit time.Duration) (time.Duration, int, error) {
	start := time.Now()
	for {
		n, err := inboxUndone(ctx, base)
		if err != nil {
			return time.Since(start), -1, err
		}
		if n == 0 || time.Since(start) >= limit || ctx.Err() != nil {
			return time.Since(start), n, nil
		}
		time.Sleep(200 * time.Millisecond)
	}
}
