package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gridbot/bot"
	"gridbot/bot/wecom"
	"gridbot/bot/wecom/wecomfake"
)

// tcpProxy forwards loopback TCP connections to a server (MariaDB, Redis)
// and can cut it: every open connection is closed and new ones are closed
// as soon as they are accepted, so that clients fail fast, as when the
// server's host goes away; Restore lets connections through again.
type tcpProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// Addr is the proxy's host:port.
func (p *tcpProxy) Addr() string { return p.ln.Addr().String() }

func (p *tcpProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		cut := p.cut
		if !cut {
			p.conns[c] = true
		}
		p.mu.Unlock()
		if cut {
			c.Close()
			continue
		}
		p.wg.Add(1)
		go p.pipe(c)
	}
}

func (p *tcpProxy) pipe(c net.Conn) {
	defer p.wg.Done()
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		p.drop(c)
		return
	}
	p.mu.Lock()
	if p.cut {
		p.mu.Unlock()
		up.Close()
		p.drop(c)
		return
	}
	p.conns[up] = true
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
	p.drop(c)
	p.drop(up)
	<-done
}

func (p *tcpProxy) drop(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

// Cut closes every connection and refuses new ones until Restore.
func (p *tcpProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		c.Close()
	}
}

// Restore lets connections through again.
func (p *tcpProxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
}

func (p *tcpProxy) close() {
	p.ln.Close()
	p.Cut()
	p.wg.Wait()
}

// faultWeCom is a fake WeCom on loopback that gridbot apps under test
// send to.
type faultWeCom struct {
	fake *wecomfake.Fake
	url  string
}

func newFaultWeCom(t *testing.T, now func() time.Time) *faultWeCom {
	t.Helper()
	fake := wecomfake.New(wecomfake.Options{CorpID: tCorp, CorpSecret: tSecret, AgentID: tAgent,
		Robots: map[string]string{tRobot: tRobotKy}, Now: now})
	api := httptest.NewServer(fake)
	t.Cleanup(api.Close)
	return &faultWeCom{fake: fake, url: api.URL}
}

// faultConfig writes a gridbot config for dir talking to the fake WeCom at
// apiURL, with short leases and backoffs so that recovery after a fault
// takes seconds, and returns its path.
func faultConfig(t testing.TB, dir, apiURL string) string {
	t.Helper()
	path := filepath.Join(dir, "config.yaml")
	cfg := fmt.Sprintf(`listen: 127.0.0.1:0
data_dir: %s
wecom:
  corp_id: %s
  agent_id: %d
  secret: %s
  token: %s
  aes_key: %s
  api_base: %s
  http_timeout: 500ms
  robots:
    %s: %s
workers:
  poll: 50ms
  inbox_lease: 2s
  outbox_lease: 2s
  outbox_backoff: 50ms
  outbox_max_backoff: 500ms
redis:
  key_prefix: "gridbot-fault-%d:"
log:
  level: error
`, dir, tCorp, tAgent, tSecret, tToken, tAESKey, apiURL, tRobot, tRobotKy, time.Now().UnixNano())
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// caller posts callbacks to a gridbot as WeCom does.
type caller struct {
	t      testing.TB
	base   string
	crypto *wecom.Crypto
	client *http.Client
	now    func() time.Time // the timestamp a callback is signed with
	seq    atomic.Int64
}

func newCaller(t testing.TB, base string) *caller {
	t.Helper()
	crypto, err := wecom.NewCrypto(tToken, tAESKey, tCorp)
	if err != nil {
		t.Fatal(err)
	}
	return &caller{t: t, base: base, crypto: crypto, client: &http.Client{Timeout: 5 * time.Second}, now: time.Now}
}

// msgID returns a MsgId no other callback of the test has.
func (c *caller) msgID() string {
	return fmt.Sprint(8_000_000_000 + time.Now().UnixMilli()%1e9*1000 + c.seq.Add(1))
}

// plain fills m's header and returns its plaintext XML.
func (c *caller) plain(m bot.Inbound, at time.Time) []byte {
	m.CorpID, m.AgentID, m.CreateTime = tCorp, fmt.Sprint(tAgent), at.Truncate(time.Second)
	return wecom.BuildXML(m)
}

// post seals plain afresh (as a WeCom retry is) and posts it; it returns
// the status, or 0 when the request itself failed.
func (c *caller) post(plain []byte) int {
	q, body, err := c.crypto.Seal(plain, fmt.Sprint(tAgent), c.now(), "")
	if err != nil {
		c.t.Fatal(err)
	}
	resp, err := c.client.Post(c.base+"/wecom/callback?"+q.URLValues().Encode(), "text/xml", strings.NewReader(string(body)))
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// deliver posts plain until it is acknowledged, as WeCom retries, or fails
// the test after limit.
func (c *caller) deliver(plain []byte, limit time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		code := c.post(plain)
		if code == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("callback not acknowledged in %s (last answer %d)", limit, code)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *caller) text(user, content string, at time.Time) []byte {
	return c.plain(bot.Inbound{Kind: bot.KindText, MsgType: "text", UserID: user, MsgID: c.msgID(), Content: content}, at)
}

func (c *caller) location(user string, lat, lng float64, at time.Time) []byte {
	return c.plain(bot.Inbound{Kind: bot.KindLocation, MsgType: "location", UserID: user, MsgID: c.msgID(),
		Lat: lat, Lng: lng, Scale: 15, Label: "测试路口"}, at)
}

func (c *caller) click(fake *wecomfake.Fake, user, taskID, key string, at time.Time) []byte {
	return c.plain(bot.Inbound{Kind: bot.KindCardClick, MsgType: "event", Event: "template_card_event", UserID: user,
		EventKey: key, TaskID: taskID, CardType: "button_interaction", ResponseCode: fake.IssueResponseCode(user, taskID)}, at)
}

// cardButtons returns the task_id and button keys of the newest template
// card user received, or "" when none.
func cardButtons(t testing.TB, fake *wecomfake.Fake, user string) (taskID string, keys []string) {
	t.Helper()
	for _, m := range fake.Messages(user) {
		if m.API != "message/send" || m.MsgType != "template_card" {
			continue
		}
		var body struct {
			Card struct {
				TaskID  string `json:"task_id"`
				Buttons []struct {
					Key string `json:"key"`
				} `json:"button_list"`
			} `json:"template_card"`
		}
		if err := json.Unmarshal(m.Body, &body); err != nil {
			t.Fatal(err)
		}
		taskID, keys = body.Card.TaskID, nil
		for _, b := range body.Card.Buttons {
			keys = append(keys, b.Key)
		}
	}
	return taskID, keys
}

// waitFor waits on the fake until cond holds, or fails the test.
func waitFor(t testing.TB, fake *wecomfake.Fake, limit time.Duration, what string, cond func(f *wecomfake.Fake) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	if err := fake.Wait(ctx, cond); err != nil {
		t.Fatalf("waiting for %s: %v (the fake got %d requests)", what, err, len(fake.Requests()))
	}
}

// inProcess is gridbot started through run(), as `gridbot serve -config`.
type inProcess struct {
	base string
	stop func() error
}

// startInProcess runs gridbot with the config at cfgPath and env, and
// waits until it listens.
func startInProcess(t *testing.T, cfgPath string, env map[string]string) *inProcess {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	stderr := &lockedBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-config", cfgPath}, func(k string) string { return env[k] }, pw, stderr)
		pw.Close()
	}()
	base := readBase(pr)
	if base == "" {
		cancel()
		t.Fatalf("gridbot did not start: %v\nstderr:\n%s", <-done, stderr.String())
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	var once sync.Once
	var stopErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(20 * time.Second):
				stopErr = fmt.Errorf("gridbot did not stop in 20 s")
			}
		})
		return stopErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("gridbot stopped with %v\nstderr:\n%s", err, stderr.String())
		}
	})
	return &inProcess{base: base, stop: stop}
}

// readBase reads gridbot's first lines until "listening on URL".
func readBase(r io.Reader) string {
	sc := bufio.NewScanner(r)
	re := regexp.MustCompile(`listening on (http://\S+)`)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			return m[1]
		}
	}
	return ""
}

// subprocess is gridbot running as its own process from a built binary.
type subprocess struct {
	cmd    *exec.Cmd
	base   string
	exited chan struct{}
	log    *lockedBuffer
}

// buildGridbot builds this package's binary into a temporary directory.
func buildGridbot(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "gridbot")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// spawnGridbot starts bin as `gridbot serve -config cfgPath` and waits
// until it answers /healthz.
func spawnGridbot(t *testing.T, bin, cfgPath string, env []string) *subprocess {
	t.Helper()
	cmd := exec.Command(bin, "serve", "-config", cfgPath)
	cmd.Env = append(os.Environ(), env...)
	pr, pw := io.Pipe()
	log := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = pw, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &subprocess{cmd: cmd, exited: make(chan struct{}), log: log}
	go func() { _ = cmd.Wait(); pw.Close(); close(s.exited) }()
	t.Cleanup(s.kill)
	s.base = readBase(pr)
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if s.base == "" {
		t.Fatalf("gridbot did not start:\n%s", log.String())
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(s.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("gridbot never answered /healthz:\n%s", log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill sends SIGKILL (kill -9) and waits for the process to be gone.
func (s *subprocess) kill() {
	_ = s.cmd.Process.Kill()
	<-s.exited
}
