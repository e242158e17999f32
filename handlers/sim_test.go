package handlers_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"gridbot/bot"
	"gridbot/bot/roster"
	"gridbot/bot/wecom"
	"gridbot/bot/wecom/wecomfake"
	"gridbot/handlers"
)

const (
	simCorp   = "wwsimcorp0001"
	simSecret = "sim-secret"
	simAgent  = 1000002
)

// simEnv is the simulator's routes on a server, with a callback endpoint
// that opens what arrives the way the real one does and hands it to the test.
type simEnv struct {
	t         *testing.T
	sim       *handlers.Sim
	srv       *httptest.Server
	callbacks chan bot.Inbound
}

func newSimEnv(t *testing.T) *simEnv {
	t.Helper()
	crypto, err := wecom.NewCrypto("simtoken", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", simCorp)
	if err != nil {
		t.Fatal(err)
	}
	e := &simEnv{t: t, callbacks: make(chan bot.Inbound, 10)}
	recv := &wecom.Receiver{Crypto: crypto, AgentID: "1000002", Window: 5 * time.Minute}
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		q := r.URL.Query()
		got, err := recv.Open(wecom.Query{Signature: q.Get("msg_signature"), Timestamp: q.Get("timestamp"), Nonce: q.Get("nonce")}, body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		e.callbacks <- got.Msg
	}))
	t.Cleanup(cb.Close)
	e.sim = &handlers.Sim{
		Fake:   wecomfake.New(wecomfake.Options{CorpID: simCorp, CorpSecret: simSecret, AgentID: simAgent}),
		Crypto: crypto, AgentID: "1000002", CallbackURL: cb.URL, HTTP: cb.Client(), Roster: roster.Demo(),
	}
	s := &handlers.Server{Sim: e.sim, Metrics: handlers.NewMetrics(nil, nil), Log: slog.New(slog.DiscardHandler), Clock: bot.ClockFunc(time.Now)}
	e.srv = httptest.NewServer(s.Routes())
	t.Cleanup(e.srv.Close)
	return e
}

// call posts JSON (GET when body is empty) and decodes the answer into v.
func (e *simEnv) call(path, body string, v any) int {
	e.t.Helper()
	var resp *http.Response
	var err error
	if body == "" {
		resp, err = http.Get(e.srv.URL + path)
	} else {
		resp, err = http.Post(e.srv.URL+path, "application/json", strings.NewReader(body))
	}
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil {
		_ = json.NewDecoder(resp.Body).Decode(v)
	}
	return resp.StatusCode
}

// A tap through /sim/api/click reaches the callback as WeCom sends it: a
// template_card_event with the card's type and a response_code the fake
// WeCom accepts once for updating that card.
func TestSimClickIsATemplateCardEvent(t *testing.T) {
	e := newSimEnv(t)
	var tok struct {
		Token string `json:"access_token"`
	}
	e.call("/wecomfake/cgi-bin/gettoken?corpid="+simCorp+"&corpsecret="+simSecret, "", &tok)
	card := `{"touser":"zhuqiang","msgtype":"template_card","agentid":1000002,"template_card":{"card_type":"vote_interaction",
		"task_id":"vote1","main_title":{"title":"投票"},"checkbox":{"question_key":"q","option_list":[{"id":"a","text":"甲"}]},
		"submit_button":{"text":"提交","key":"submit"}}}`
	var sent struct{ ErrCode int }
	if e.call("/wecomfake/cgi-bin/message/send?access_token="+tok.Token, card, &sent); sent.ErrCode != 0 {
		t.Fatalf("sending the card: errcode %d", sent.ErrCode)
	}

	var out map[string]any
	if code := e.call("/sim/api/click", `{"from":"zhuqiang","task_id":"vote1","key":"submit"}`, &out); code != 200 || out["callback_status"] != float64(200) {
		t.Fatalf("click: %d %v", code, out)
	}
	m := <-e.callbacks
	if m.Kind != bot.KindCardClick || m.Event != "template_card_event" || m.UserID != "zhuqiang" || m.TaskID != "vote1" ||
		m.EventKey != "submit" || m.CardType != "vote_interaction" || m.ResponseCode == "" || m.CorpID != simCorp || m.AgentID != "1000002" {
		t.Fatalf("callback %+v", m)
	}
	update := `{"agentid":1000002,"userids":["zhuqiang"],"response_code":"` + m.ResponseCode + `","button":{"replace_name":"已投票"}}`
	for i, want := range []int{0, 60140} { // valid once, then used up
		var res struct{ ErrCode int }
		e.call("/wecomfake/cgi-bin/message/update_template_card?access_token="+tok.Token, update, &res)
		if res.ErrCode != want {
			t.Fatalf("update %d with the click's response_code: errcode %d, want %d", i, res.ErrCode, want)
		}
	}

	// A card the fake does not know is a button_interaction.
	e.call("/sim/api/click", `{"from":"zhuqiang","task_id":"unknown1","key":"ok"}`, nil)
	if m := <-e.callbacks; m.CardType != bot.CardButton || m.TaskID != "unknown1" {
		t.Fatalf("callback %+v", m)
	}
	var log []handlers.SentEntry
	e.call("/sim/api/sent?from=zhuqiang", "", &log)
	if len(log) != 2 || log[0].Type != "card_click" || log[0].TaskID != "vote1" || log[0].Key != "submit" || log[0].Status != 200 {
		t.Fatalf("sent log %+v", log)
	}
}

// Bad input is a 400 with a JSON error, and nothing is sent.
func TestSimRejectsBadInput(t *testing.T) {
	e := newSimEnv(t)
	long := strings.Repeat("x", 200)
	for path, bodies := range map[string][]string{
		"/sim/api/click": {`{}`, `[`, `{"from":"a","task_id":"t"}`, `{"from":"a","key":"k"}`, `{"task_id":"t","key":"k"}`, `{"from":"a","task_id":"` + long + `","key":"k"}`},
		"/sim/api/send":  {`{}`, `{"from":"a","type":"text"}`, `{"from":"a","type":"image","image_base64":"%%%"}`, `{"from":"a","type":"voice"}`},
		"/sim/api/demo":  {`{"pause_ms":-5}`, `{"pause_ms":60000}`, `{"pause_ms":"x"}`},
	} {
		for _, body := range bodies {
			var out struct{ Error, Code string }
			if code := e.call(path, body, &out); code != http.StatusBadRequest || out.Error == "" || out.Code != bot.EINVALID {
				t.Errorf("%s %s: %d %+v", path, body, code, out)
			}
		}
	}
	for _, path := range []string{"/sim/api/sent", "/sim/api/sent?from=a&after=x", "/sim/api/groups?after=-1", "/sim/api/stream?after=x", "/sim/api/messages"} {
		if code := e.call(path, "", nil); code != http.StatusBadRequest {
			t.Errorf("GET %s: %d", path, code)
		}
	}
	if code := e.call("/sim/api/media/nothing", "", nil); code != http.StatusNotFound {
		t.Errorf("unknown media: %d", code)
	}
	select {
	case m := <-e.callbacks:
		t.Fatalf("a callback was sent: %+v", m)
	default:
	}
}

// The event stream pushes what arrives and ends when the server shuts
// down, so that a page left open does not hold up a shutdown.
func TestSimStreamEndsAtShutdown(t *testing.T) {
	e := newSimEnv(t)
	resp, err := http.Get(e.srv.URL + "/sim/api/stream?user=zhuqiang")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				lines <- data
			}
		}
	}()
	first := <-lines
	if !strings.Contains(first, `"demo":{"state":"idle"`) {
		t.Fatalf("first event %s", first)
	}
	e.call("/sim/api/send", `{"from":"zhuqiang","text":"帮助"}`, nil)
	if m := <-e.callbacks; m.Content != "帮助" {
		t.Fatalf("callback %+v", m)
	}
	if next := <-lines; !strings.Contains(next, `"text":"帮助"`) || !strings.Contains(next, `"type":"text"`) {
		t.Fatalf("the stream did not push what was sent: %s", next)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	if err := e.srv.Config.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown with a stream open: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("shutdown took %s", took)
	}
	for range lines { // the stream ends
	}
}

// The demo fails in words when the bot never answers, and only one plays
// at a time.
func TestSimDemoWithoutBot(t *testing.T) {
	e := newSimEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	blocked := make(chan error, 1)
	started := make(chan struct{})
	go func() {
		_, err := e.sim.PlayDemo(ctx, handlers.DemoOptions{Wait: time.Minute, OnStep: func(p handlers.DemoProgress) {
			if p.Step == 1 && p.State == handlers.DemoRunning {
				close(started)
			}
		}})
		blocked <- err
	}()
	<-started
	if _, err := e.sim.PlayDemo(ctx, handlers.DemoOptions{}); bot.ErrorCode(err) != bot.ECONFLICT {
		t.Fatalf("a second demo: %v", err)
	}
	if code := e.call("/sim/api/demo", `{}`, nil); code != http.StatusConflict {
		t.Fatalf("POST /sim/api/demo while playing: %d", code)
	}
	cancel()
	if err := <-blocked; err == nil || !strings.Contains(err.Error(), "演示已停止") {
		t.Fatalf("stopped demo: %v", err)
	}

	p, err := e.sim.PlayDemo(context.Background(), handlers.DemoOptions{Wait: 50 * time.Millisecond})
	var progress handlers.DemoProgress
	e.call("/sim/api/demo", "", &progress)
	if err == nil || p.State != handlers.DemoFailed || !strings.Contains(p.Error, "朱强仍未收到机器人的回复") || progress.Error != p.Error || progress.Step != 1 {
		t.Fatalf("demo without a bot: %v, %+v, GET: %+v", err, p, progress)
	}
}
