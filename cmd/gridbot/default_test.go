package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// `gridbot` with no arguments serves the embedded default: SQLite, the
// simulated WeCom, the demo roster, the simulator's endpoints; a message a
// roster member sends through the simulator is answered through the whole loop.
func TestEmbeddedDefault(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, nil, env(map[string]string{
			"GRIDBOT_LISTEN":      "127.0.0.1:0",
			"GRIDBOT_SQLITE_PATH": filepath.Join(dir, "gridbot.db"),
		}), pw, io.Discard)
		pw.Close()
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	var out strings.Builder
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), "health:") {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	m := regexp.MustCompile(`simulator: (http://\S+)/sim/`).FindStringSubmatch(out.String())
	if m == nil || !strings.Contains(out.String(), "SQLite "+filepath.Join(dir, "gridbot.db")) || !strings.Contains(out.String(), "simulated WeCom") {
		t.Fatalf("startup output:\n%s", out.String())
	}
	base := m[1]

	resp, err := http.Post(base+"/sim/api/send", "application/json", strings.NewReader(`{"from":"zhuqiang","text":"帮助"}`))
	if err != nil {
		t.Fatal(err)
	}
	var sent struct {
		Status int `json:"callback_status"`
	}
	json.NewDecoder(resp.Body).Decode(&sent)
	resp.Body.Close()
	if resp.StatusCode != 200 || sent.Status != 200 {
		t.Fatalf("sim send answered %d, callback %d", resp.StatusCode, sent.Status)
	}
	// The reply goes through the inbox, the worker and the outbox.
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(base + "/sim/api/messages?to=zhuqiang")
		if err != nil {
			t.Fatal(err)
		}
		var msgs []struct {
			API     string          `json:"api"`
			MsgType string          `json:"msgtype"`
			Body    json.RawMessage `json:"body"`
		}
		json.NewDecoder(resp.Body).Decode(&msgs)
		resp.Body.Close()
		if len(msgs) == 1 {
			if msgs[0].API != "message/send" || msgs[0].MsgType != "text" || !strings.Contains(string(msgs[0].Body), "朱强，您好") {
				t.Fatalf("reply = %+v %s", msgs[0], msgs[0].Body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no reply; messages: %+v", msgs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code := get(t, base+"/healthz"); code != 200 {
		t.Fatalf("healthz %d", code)
	}
}

func get(t *testing.T, url string) int {
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
