package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gridbot/handlers"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// live is gridbot on the simulated WeCom as `gridbot` runs it: real clock,
// the inbox processor, the outbox dispatcher and the sweeper running in the
// background, HTTP on a free port.
type live struct {
	t    *testing.T
	app  *app
	base string
}

// simConfig is a config for the simulated WeCom in dir, with a group robot.
func simConfig(dir string) string {
	return fmt.Sprintf(`listen: 127.0.0.1:0
data_dir: %s
wecom:
  simulate: true
  corp_id: %s
  agent_id: %d
  secret: %s
  token: %s
  aes_key: %s
  robots:
    %s: %s
workers:
  poll: 100ms
log:
  level: warn
reports:
  disabled: true
`, dir, tCorp, tAgent, tSecret, tToken, tAESKey, tRobot, tRobotKy)
}

func startLive(t *testing.T) *live {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(simConfig(dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadFlags("test", []string{"-config", path}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(context.Background(), cfg, ln, io.Discard, deps{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- a.serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
		a.close()
	})
	l := &live{t: t, app: a, base: a.base}
	l.get("/healthz", nil)
	return l
}

// get fetches path as JSON into v (when not nil) and fails on a status other than 200.
func (l *live) get(path string, v any) {
	l.t.Helper()
	resp, err := http.Get(l.base + path)
	if err != nil {
		l.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		l.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			l.t.Fatalf("GET %s: %v in %s", path, err, body)
		}
	}
}

// post posts body as JSON and returns the status and the decoded answer.
func (l *live) post(path, body string) (int, map[string]any) {
	l.t.Helper()
	resp, err := http.Post(l.base+path, "application/json", strings.NewReader(body))
	if err != nil {
		l.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// closedCases are the numbers of the closed cases, by the cases API.
func (l *live) closedCases() []string {
	l.t.Helper()
	var got struct {
		Cases []struct {
			No     string `json:"no"`
			Status string `json:"status"`
		} `json:"cases"`
	}
	l.get("/api/cases?status=closed", &got)
	var out []string
	for _, c := range got.Cases {
		if c.Status == "closed" {
			out = append(out, c.No)
		}
	}
	return out
}

// robotMarkdown posts markdown through the group robot, as the bot would.
func (l *live) robotMarkdown(content string) {
	l.t.Helper()
	b, _ := json.Marshal(map[string]any{"msgtype": "markdown", "markdown": map[string]string{"content": content}})
	resp, err := http.Post(l.base+"/wecomfake/cgi-bin/webhook/send?key="+tRobotKy, "application/json", bytes.NewReader(b))
	if err != nil {
		l.t.Fatal(err)
	}
	resp.Body.Close()
}

// testPNG writes a small PNG photo into dir.
func testPNG(t *testing.T, dir, name string, c color.RGBA) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := 0; y < 48; y++ {
		for x := 0; x < 64; x++ {
			img.SetRGBA(x, y, color.RGBA{R: c.R, G: c.G + uint8(y), B: c.B + uint8(x), A: 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// simUserJSON is an entry of GET /sim/api/users.
type simUserJSON struct {
	UserID       string   `json:"userid"`
	Name         string   `json:"name"`
	Roles        []string `json:"roles"`
	District     string   `json:"district"`
	DistrictName string   `json:"district_name"`
	Grid         string   `json:"grid"`
	GridName     string   `json:"grid_name"`
	Dept         string   `json:"dept"`
}

// The JSON endpoints of the simulator, and a tap on a card through
// /sim/api/click arriving as a real template_card_event.
func TestSimAPI(t *testing.T) {
	l := startLive(t)
	roster := l.app.roster

	var users []simUserJSON
	l.get("/sim/api/users", &users)
	if len(users) != len(roster.People) {
		t.Fatalf("%d users, the roster has %d", len(users), len(roster.People))
	}
	i := slices.IndexFunc(users, func(u simUserJSON) bool { return u.UserID == "zhuqiang" })
	if i < 0 || users[i].Name != "朱强" || !slices.Equal(users[i].Roles, []string{"inspector"}) || users[i].District != "dongcheng" ||
		users[i].DistrictName != "东城管区" || users[i].Grid != "dc01" || users[i].GridName != "东盛社区第一网格" {
		t.Fatalf("zhuqiang = %+v", users[max(i, 0)])
	}
	j := slices.IndexFunc(users, func(u simUserJSON) bool { return u.UserID == "jiangtao" })
	if j < 0 || users[j].Dept != "环卫" || users[j].District != "dongcheng" {
		t.Fatalf("jiangtao = %+v", users[max(j, 0)])
	}

	var m struct {
		Name      string
		Center    [2]float64
		Districts []struct{ ID, Name string }
		Grids     []struct {
			ID, Name, District string
			Polygon            [][][2]float64
			Center             [2]float64
		}
		Chats []struct{ ID, Name, Robot string }
	}
	l.get("/sim/api/map", &m)
	if m.Name != "董家街道" || m.Center != [2]float64{117.15, 36.72} || len(m.Districts) != 5 || len(m.Grids) != 18 || len(m.Chats) != 6 {
		t.Fatalf("map: %s %v, %d districts, %d grids, %d chats", m.Name, m.Center, len(m.Districts), len(m.Grids), len(m.Chats))
	}
	for _, g := range m.Grids {
		if len(g.Polygon) == 0 || len(g.Polygon[0]) < 4 || g.Polygon[0][0][0] < 117 || g.Polygon[0][0][1] > 37 {
			t.Fatalf("grid %s polygon %v (want [lng, lat])", g.ID, g.Polygon)
		}
		if got, ok := roster.GridAt(g.Center[1], g.Center[0]); !ok || got.ID != g.ID {
			t.Fatalf("grid %s centre %v is not inside it", g.ID, g.Center)
		}
	}

	// The page and its files, with a strict content policy.
	for path, ctype := range map[string]string{"/sim/": "text/html", "/sim/assets/sim.js": "text/javascript", "/sim/assets/sim.css": "text/css"} {
		resp, err := http.Get(l.base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), ctype) ||
			!strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") || len(body) < 500 {
			t.Fatalf("%s: %d %s %q", path, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Security-Policy"))
		}
	}
	for _, path := range []string{"/sim/assets/../../go.mod", "/sim/assets/nothing.js", "/sim/assets/"} {
		resp, err := http.Get(l.base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("%s: %d, want 404", path, resp.StatusCode)
		}
	}

	// Bad input is a 400 with a JSON error.
	for _, body := range []string{`{}`, `not json`, `{"from":"zhuqiang","task_id":"x"}`, `{"from":"zhuqiang","key":"confirm"}`} {
		if code, out := l.post("/sim/api/click", body); code != http.StatusBadRequest || out["error"] == nil {
			t.Fatalf("click %s: %d %v", body, code, out)
		}
	}
	for _, body := range []string{`{"from":"zhuqiang","type":"image","image_base64":"!!"}`, `{"from":"zhuqiang","type":"fax"}`, `{"type":"text","text":"x"}`} {
		if code, out := l.post("/sim/api/send", body); code != http.StatusBadRequest || out["error"] == nil {
			t.Fatalf("send %s: %d %v", body, code, out)
		}
	}
	if code, _ := l.post("/sim/api/demo", `{"pause_ms":-1}`); code != http.StatusBadRequest {
		t.Fatalf("demo with a negative pause: %d", code)
	}
	var demo handlers.DemoProgress
	l.get("/sim/api/demo", &demo)
	if demo.State != handlers.DemoIdle {
		t.Fatalf("demo before any: %+v", demo)
	}

	// A report through /sim/api/send; the page's stream sees the bot's answers.
	events := l.stream("/sim/api/stream?user=zhuqiang")
	g, _ := roster.Grid("dc01")
	photo, _ := os.ReadFile(testPNG(t, t.TempDir(), "p.png", color.RGBA{R: 90, G: 120, B: 60}))
	sends := []map[string]any{
		{"from": "zhuqiang", "type": "image", "image_base64": photo},
		{"from": "zhuqiang", "type": "location", "lat": g.Center.Lat(), "lng": g.Center.Lon(), "label": g.Name},
		{"from": "zhuqiang", "type": "text", "text": "东盛路菜市场门口垃圾桶满了，垃圾溢出来没人清理"},
	}
	var mediaID string
	for _, s := range sends {
		b, _ := json.Marshal(s)
		code, out := l.post("/sim/api/send", string(b))
		sent, _ := out["sent"].(map[string]any)
		if code != 200 || out["callback_status"] != float64(200) || sent == nil || sent["type"] != s["type"] {
			t.Fatalf("send %v: %d %v", s["type"], code, out)
		}
		if id, ok := sent["media_id"].(string); ok {
			mediaID = id
		}
	}
	resp, err := http.Get(l.base + "/sim/api/media/" + mediaID)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("media: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var sent []handlers.SentEntry
	l.get("/sim/api/sent?from=zhuqiang", &sent)
	if len(sent) != 3 || sent[0].Type != "image" || sent[1].Type != "location" || sent[2].Text == "" || sent[1].Label != g.Name {
		t.Fatalf("sent log %+v", sent)
	}

	// The draft card arrives on the stream; tapping its buttons goes
	// through /sim/api/click until the case is filed.
	task, key := "", ""
	for task == "" || key != "confirm" {
		batch := events.next(t)
		for _, msg := range batch.Messages {
			var body struct {
				Card struct {
					Buttons []struct{ Key string } `json:"button_list"`
				} `json:"template_card"`
			}
			json.Unmarshal(msg.Body, &body)
			for _, b := range body.Card.Buttons {
				if b.Key == "confirm" || (key == "" && strings.HasPrefix(b.Key, "pick:")) {
					task, key = msg.TaskID, b.Key
				}
			}
		}
		if key != "" && key != "confirm" {
			if code, out := l.post("/sim/api/click", fmt.Sprintf(`{"from":"zhuqiang","task_id":%q,"key":%q}`, task, key)); code != 200 {
				t.Fatalf("pick: %d %v", code, out)
			}
			task, key = "", "picked"
		}
	}
	code, out := l.post("/sim/api/click", fmt.Sprintf(`{"from":"zhuqiang","task_id":%q,"key":"confirm"}`, task))
	if code != 200 || out["callback_status"] != float64(200) {
		t.Fatalf("click: %d %v", code, out)
	}
	for updated := false; !updated; {
		for _, msg := range events.next(t).Messages {
			updated = updated || msg.API == "update_template_card" && msg.TaskID == task
		}
	}
	var cases struct {
		Cases []struct{ No, Status, Reporter, Grid string }
	}
	l.get("/api/cases", &cases)
	if len(cases.Cases) != 1 || cases.Cases[0].Reporter != "zhuqiang" || cases.Cases[0].Grid != "dc01" {
		t.Fatalf("cases after the tap: %+v", cases.Cases)
	}

	// What the group robots send shows under /sim/api/groups.
	l.robotMarkdown("**东城管区** 今日新增 <font color=\"warning\">1</font> 件")
	var groups []struct{ API, To, MsgType string }
	l.get("/sim/api/groups", &groups)
	if len(groups) != 1 || groups[0].API != "webhook/send" || groups[0].To != "robot:"+tRobot || groups[0].MsgType != "markdown" {
		t.Fatalf("groups %+v", groups)
	}
}

// sse reads a Server-Sent Events stream of the simulator.
type sse struct {
	lines chan string
}

// stream opens path as an event stream, closed when the test ends.
func (l *live) stream(path string) *sse {
	l.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, l.base+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		l.t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		cancel()
		l.t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &sse{lines: make(chan string, 100)}
	go func() {
		defer close(s.lines)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				s.lines <- data
			}
		}
	}()
	l.t.Cleanup(func() { cancel(); resp.Body.Close() })
	return s
}

// streamEvent is one event of /sim/api/stream.
type streamEvent struct {
	Messages []struct {
		Seq     int64
		API     string
		MsgType string `json:"msgtype"`
		TaskID  string `json:"task_id"`
		Body    json.RawMessage
	}
	Demo *handlers.DemoProgress
}

func (s *sse) next(t *testing.T) streamEvent {
	t.Helper()
	select {
	case line, ok := <-s.lines:
		if !ok {
			t.Fatal("the stream ended")
		}
		var ev streamEvent
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("stream event %s: %v", line, err)
		}
		return ev
	case <-time.After(20 * time.Second):
		t.Fatal("no stream event for 20 s")
	}
	return streamEvent{}
}

// The scripted demo, started as the page's 演示 button does, plays to a
// closed case; only one plays at a time.
func TestSimDemo(t *testing.T) {
	l := startLive(t)
	events := l.stream("/sim/api/stream")
	if code, out := l.post("/sim/api/demo", `{"pause_ms":0}`); code != http.StatusAccepted || out["state"] != handlers.DemoRunning {
		t.Fatalf("start: %d %v", code, out)
	}
	if code, out := l.post("/sim/api/demo", `{}`); code != http.StatusConflict || out["error"] == nil {
		t.Fatalf("a second demo: %d %v", code, out)
	}
	var final *handlers.DemoProgress
	for final == nil {
		if d := events.next(t).Demo; d != nil && d.State != handlers.DemoRunning && d.State != handlers.DemoIdle {
			final = d
		}
	}
	if final.State != handlers.DemoDone || final.CaseNo == "" || final.Error != "" || len(final.Captions) < 11 {
		t.Fatalf("demo ended %+v", final)
	}
	officer, _ := l.app.roster.Person(l.app.roster.Guidance("dongcheng", "环卫")[0].UserID)
	for i, who := range map[int]string{0: "朱强", 3: "朱强", 4: "张伟", 5: officer.Name, 7: officer.Name, 8: "朱强"} {
		if !strings.Contains(final.Captions[i], who) {
			t.Fatalf("caption %d %q does not name %s", i, final.Captions[i], who)
		}
	}
	if !slices.Contains(l.closedCases(), final.CaseNo) {
		t.Fatalf("%s is not closed: %v", final.CaseNo, l.closedCases())
	}
	var got struct {
		Case struct {
			Reporter, Grid string
		}
		Events []struct{ Actor, Action string }
		Photos []struct{ Kind string }
	}
	l.get("/api/cases/"+final.CaseNo, &got)
	var actions []string
	for _, e := range got.Events {
		actions = append(actions, e.Actor+":"+e.Action)
	}
	if got.Case.Reporter != "zhuqiang" || got.Case.Grid != "dc01" || len(got.Photos) != 2 ||
		strings.Join(actions, ",") != "zhuqiang:report,zhangwei:call_guidance,"+officer.UserID+":accept,"+officer.UserID+":handled,zhuqiang:verify_ok" {
		t.Fatalf("case %+v, events %v, %d photos", got.Case, actions, len(got.Photos))
	}
	// It can play again once it is over.
	if code, _ := l.post("/sim/api/demo", `{"pause_ms":0}`); code != http.StatusAccepted {
		t.Fatalf("second start: %d", code)
	}
}

// `gridbot demo` serves the embedded default's simulator and plays the
// story, printing each caption, the case number and where to watch.
func TestDemoCommand(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(simConfig(dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, []string{"demo", "-config", path, "-pause", "0", "-exit"}, env(nil), &out, io.Discard); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	s := out.String()
	if !regexp.MustCompile(`\[10/10\] .*跳过`).MatchString(s) || !regexp.MustCompile(`case DJ-\d{8}-\d{3} closed`).MatchString(s) ||
		!regexp.MustCompile(`http://127\.0\.0\.1:\d+/sim/`).MatchString(s) || !strings.Contains(s, "[1/10] 网格员朱强") {
		t.Fatalf("output:\n%s", s)
	}
}

// chromium finds the browser for the browser test.
func chromium(t *testing.T) string {
	if p := os.Getenv("GRIDBOT_TEST_CHROMIUM"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true but no chromium: install it (apt-get install chromium) or set GRIDBOT_TEST_CHROMIUM")
	}
	t.Skip("no chromium found (apt-get install chromium, or set GRIDBOT_TEST_CHROMIUM): skipping the browser test")
	return ""
}

// page drives the simulator's page in headless Chromium.
type page struct {
	t   *testing.T
	ctx context.Context
	l   *live

	mu     sync.Mutex
	errors []string // uncaught exceptions in the page
}

// stepTimeout bounds every step of the browser test.
const stepTimeout = 30 * time.Second

// do runs actions within stepTimeout; on failure it saves a screenshot and
// fails the test.
func (p *page) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.fail(what, err)
	}
}

// result runs one action with a result within stepTimeout.
func result[T any](p *page, what string, action chromedp.Action[T]) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		p.fail(what, err)
	}
	return v
}

func (p *page) fail(what string, err error) {
	p.t.Helper()
	text, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.querySelector('#msgs') ? document.querySelector('#msgs').innerText.slice(-300) : ''`))
	if shot, serr := chromedp.Run(p.ctx, chromedp.FullScreenshot(100)); serr == nil {
		p.saveArtifact("sim-failure.png", shot)
	}
	var calls strings.Builder
	reqs := p.l.app.sim.Fake.Requests()
	for _, r := range reqs[max(0, len(reqs)-12):] {
		fmt.Fprintf(&calls, "  #%d %s to=%s %s task=%s errcode=%d %s\n", r.Seq, r.API, r.To, r.MsgType, r.TaskID, r.ErrCode, r.ErrMsg)
	}
	p.t.Fatalf("%s: %v\nthe chat ends with:\n%s\nthe fake WeCom's last calls:\n%s", what, err, text, calls.String())
}

func (p *page) saveArtifact(name string, data []byte) {
	if dir := os.Getenv("GRIDBOT_ARTIFACTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err == nil {
			_ = os.WriteFile(filepath.Join(dir, name), data, 0o644)
		}
	}
}

// as switches the page to a member, as the selector does, and waits for
// their chat to be connected.
func (p *page) as(userID, name string) {
	p.t.Helper()
	p.do("switch to "+userID,
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const s = document.getElementById('who'); s.value = %q; s.dispatchEvent(new Event('change', {bubbles: true})); })()`, userID)),
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.getElementById('who-name').textContent.startsWith(%q) && document.getElementById('conn').classList.contains('on')`, name)),
	)
}

// waitCard waits for a live card (buttons not yet replaced) with a button
// whose key is one of keys ("pick:" matches as a prefix) and returns that key.
func (p *page) waitCard(keys ...string) string {
	p.t.Helper()
	var sels []string
	for _, k := range keys {
		op := "="
		if strings.HasSuffix(k, ":") {
			op = "^="
		}
		sels = append(sels, fmt.Sprintf(`#msgs .card:not(.replaced) button[data-key%s%q]`, op, k))
	}
	return result(p, "wait for a card with "+strings.Join(keys, " or "), chromedp.Poll[string](
		fmt.Sprintf(`(() => { const b = [...document.querySelectorAll(%q)].pop(); return b ? b.dataset.key : ''; })()`, strings.Join(sels, ", ")),
		chromedp.WithPollingTimeout(stepTimeout)))
}

// tap taps the button key on the newest live card that has it and waits
// until the bot greys the card out in place.
func (p *page) tap(key string) {
	p.t.Helper()
	p.waitCard(key)
	card := p.press(key)
	p.do("wait for the tapped card to grey out", chromedp.WaitVisible(chromedp.CSS(card+` .card-replace`)))
}

// tapAsked taps the button key when the bot answers with a question first
// (such as a photo) and waits for it; the card greys out once answered.
func (p *page) tapAsked(key, question string) string {
	p.t.Helper()
	p.waitCard(key)
	card := p.press(key)
	p.waitBot(question)
	return card
}

// press clicks the button key on the newest live card that has it and
// returns the card's selector.
func (p *page) press(key string) string {
	p.t.Helper()
	task := result(p, "find the card of "+key, chromedp.Evaluate[string](fmt.Sprintf(
		`[...document.querySelectorAll('#msgs .card:not(.replaced) button[data-key=%q]')].pop().closest('.card').dataset.task`, key)))
	card := fmt.Sprintf(`.card[data-task=%q]`, task)
	p.do("tap "+key, chromedp.Click(chromedp.CSS(card+fmt.Sprintf(` button[data-key=%q]`, key))))
	return card
}

// sendText types a line and taps 发送.
func (p *page) sendText(text string) {
	p.t.Helper()
	p.do("send "+text,
		chromedp.SetValue(chromedp.CSS("#text"), text),
		chromedp.Click(chromedp.CSS("#send-btn")),
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`[...document.querySelectorAll('#msgs .row.me .bubble')].some(b => b.textContent === %q)`, text)),
	)
}

// sendPhoto picks a photo in the file input and waits for it in the chat.
func (p *page) sendPhoto(path string) {
	p.t.Helper()
	n := result(p, "count the photos", chromedp.Evaluate[int](`document.querySelectorAll('#msgs .row.me img.photo').length`))
	p.do("send a photo",
		chromedp.SetUploadFiles(chromedp.CSS("#photo-input"), []string{path}),
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelectorAll('#msgs .row.me img.photo').length > %d`, n)),
	)
}

// waitBot waits for a bot bubble containing text.
func (p *page) waitBot(text string) {
	p.t.Helper()
	p.do("wait for "+text, chromedp.Poll[chromedp.Void](fmt.Sprintf(`[...document.querySelectorAll('#msgs .row.bot .bubble')].some(b => b.textContent.includes(%q))`, text),
		chromedp.WithPollingTimeout(stepTimeout)))
}

// In headless Chromium, through the page only: 朱强 reports with a photo, a
// map click and a line; the chief calls the guidance officer, who accepts,
// handles and sends a photo; 朱强 verifies and the case is closed. The group
// chats render markdown, and nothing anyone sends is parsed as HTML.
func TestSimBrowser(t *testing.T) {
	exe := chromium(t)
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("the browser test is not short")
	}
	start := time.Now()
	l := startLive(t)
	dir := t.TempDir()
	before := testPNG(t, dir, "before.png", color.RGBA{R: 150, G: 90, B: 40})
	after := testPNG(t, dir, "after.png", color.RGBA{R: 60, G: 150, B: 90})

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(390, 844),
	)
	defer cancelAlloc()
	ctx, cancelTab := chromedp.NewContext(alloc)
	defer cancelTab()
	p := &page{t: t, ctx: ctx, l: l}

	exceptions := chromedp.Events(ctx, runtime.ExceptionThrown)
	go func() {
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			p.mu.Lock()
			msg := ev.ExceptionDetails.Text
			if e := ev.ExceptionDetails.Exception; e != nil {
				msg += " " + e.Description
			}
			p.errors = append(p.errors, msg)
			p.mu.Unlock()
		}
	}()

	p.do("open the page",
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(l.base+"/sim/#zhuqiang"),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready]`)),
		chromedp.Poll[chromedp.Void](`document.getElementById('conn').classList.contains('on')`),
	)
	p.as("zhuqiang", "朱强")

	// 朱强 reports: a photo, a point inside dc01 on the map, a line of text.
	p.sendPhoto(before)
	p.waitBot("照片")
	p.do("send a location from the map",
		chromedp.Click(chromedp.CSS("#loc-btn")),
		chromedp.WaitVisible(chromedp.CSS(`#map-svg path[data-grid="dc01"]`)),
		chromedp.Click(chromedp.CSS(`#map-svg path[data-grid="dc01"]`)),
		chromedp.Poll[chromedp.Void](`document.getElementById('map-info').textContent.includes('东盛社区第一网格') && !document.getElementById('map-send').disabled`),
		chromedp.Click(chromedp.CSS("#map-send")),
		chromedp.WaitVisible(chromedp.CSS(`#msgs .row.me .loc`)),
	)
	p.waitBot("东盛社区第一网格")
	p.sendText("东盛路菜市场门口垃圾桶满了，垃圾溢出来没人清理")
	for key := p.waitCard("confirm", "pick:"); key != "confirm"; key = p.waitCard("confirm", "pick:") {
		p.tap(key) // the classifier was unsure: take its first category
	}
	p.tap("confirm")
	p.waitBot("已上报")

	// The chief of 东城 calls the guidance officer of the category.
	p.as("zhangwei", "张伟")
	p.tap("call_guidance")
	var guided struct {
		Cases []struct{ No, Assignee string }
	}
	l.get("/api/cases?status=guidance", &guided)
	if len(guided.Cases) != 1 {
		t.Fatalf("cases with the guidance officer: %+v", guided.Cases)
	}
	officer, ok := l.app.roster.Person(guided.Cases[0].Assignee)
	if !ok {
		t.Fatalf("assignee %q is not in the roster", guided.Cases[0].Assignee)
	}

	// The officer accepts, handles, and sends the after-photo.
	p.as(officer.UserID, officer.Name)
	p.tap("accept")
	handled := p.tapAsked("handled", "处置后的现场照片")
	p.sendPhoto(after)
	p.do("wait for the handled card to grey out", chromedp.WaitVisible(chromedp.CSS(handled+` .card-replace`)))

	// 朱强 verifies on site, skips the photo, and the case is closed.
	p.as("zhuqiang", "朱强")
	verify := p.tapAsked("verify_ok", "核查时的现场照片")
	p.sendText("跳过")
	p.waitBot("已结案")
	p.do("wait for the verify card to grey out", chromedp.WaitVisible(chromedp.CSS(verify+` .card-replace`)))
	if closed := l.closedCases(); !slices.Contains(closed, guided.Cases[0].No) {
		t.Fatalf("%s is not closed: %v", guided.Cases[0].No, closed)
	}

	// The group chats: a robot's markdown is rendered, and its HTML is text.
	l.robotMarkdown("## 东城管区日报\n**新增** <font color=\"warning\">1</font> 件，<font color=\"info\">已结案 1 件</font>\n- 逾期 0\n<img src=x onerror=\"window.__pwned=1\"><script>window.__pwned=2</script>")
	p.do("read the group chat",
		chromedp.Click(chromedp.CSS(`.tabs button[data-tab="groups"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#chat-list li[data-chat="DJcommittee"] .badge`)),
		chromedp.Click(chromedp.CSS(`#chat-list li[data-chat="DJcommittee"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#group-msgs .md-warning`)),
	)
	safe := result(p, "check the group chat", chromedp.Evaluate[bool](`window.__pwned === undefined && !document.querySelector('img[src="x"]') && !document.querySelector('#group-msgs script') &&
		document.querySelector('#group-msgs strong').textContent === '新增' && document.querySelector('#group-msgs .md-h2').textContent === '东城管区日报' &&
		document.querySelector('#group-msgs').textContent.includes('<img src=x')`))
	if !safe {
		p.fail("the group chat's markdown", errors.New("rendered unsafely or wrongly"))
	}

	// A screenshot of 朱强's chat at the end of the story.
	p.do("back to the chat",
		chromedp.Click(chromedp.CSS(`.tabs button[data-tab="app"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#msgs .card.replaced`)),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('chat-pane').scrollTop = 1e9`),
	)
	shot := result(p, "take the screenshot", chromedp.FullScreenshot(100))
	// The artifact goes to $GRIDBOT_ARTIFACTS (or the temp folder); the
	// README's copy in testdata is rewritten only when asked, so that a test
	// run leaves the tree clean.
	if os.Getenv("GRIDBOT_UPDATE_SCREENSHOT") != "" {
		if err := os.WriteFile(filepath.Join("testdata", "sim-screenshot.png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if os.Getenv("GRIDBOT_ARTIFACTS") == "" {
		path := filepath.Join(os.TempDir(), "gridbot-sim-screenshot.png")
		if err := os.WriteFile(path, shot, 0o644); err == nil {
			t.Logf("screenshot: %s", path)
		}
	}
	p.saveArtifact("sim-screenshot.png", shot)

	// The 演示 button plays the story again; the page follows whoever acts.
	p.do("play the demo from the page",
		chromedp.Navigate(l.base+"/sim/?pause=400#yangfan"),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready]`)),
		chromedp.Poll[chromedp.Void](`document.getElementById('who-name').textContent.startsWith('杨帆')`),
		chromedp.Click(chromedp.CSS(`.demo-mini`)),
		chromedp.WaitVisible(chromedp.CSS(`#demo-banner`)),
	)
	for _, name := range []string{"朱强", "张伟", officer.Name, "朱强"} {
		p.do("follow the demo to "+name, chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.getElementById('who-name').textContent.startsWith(%q)`, name),
			chromedp.WithPollingTimeout(stepTimeout)))
	}
	p.do("the demo ends", chromedp.WaitVisible(chromedp.CSS(`#demo-banner.done`)))
	if closed := l.closedCases(); len(closed) != 2 {
		t.Fatalf("closed cases after the demo: %v", closed)
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.errors) > 0 {
		t.Fatalf("the page threw: %v", p.errors)
	}
	t.Logf("the browser test took %s", time.Since(start).Round(100*time.Millisecond))
}
