package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gridbot/bot"
	"gridbot/bot/roster"
	"gridbot/bot/wecom/wecomfake"
)

// testClock is a clock a test moves.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// world is gridbot on the embedded default's simulated WeCom with a clock
// the test moves. Callbacks go over HTTP, signed and encrypted; the workers
// are driven by the test (drain), so every step is deterministic.
type world struct {
	t      testing.TB
	app    *app
	clk    *testClock
	fake   *wecomfake.Fake
	roster *roster.Roster
	photoN int
}

func newWorld(t testing.TB, be backend, start time.Time) *world {
	return newWorldWithRoster(t, be, start, nil)
}

// newWorldWithRoster is newWorld with its own roster (YAML) installed
// where serve finds it; nil keeps the demo roster.
func newWorldWithRoster(t testing.TB, be backend, start time.Time, rosterYAML []byte) *world {
	t.Helper()
	dir := t.TempDir()
	if rosterYAML != nil {
		if err := os.WriteFile(filepath.Join(dir, "roster.yaml"), rosterYAML, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{"GRIDBOT_SQLITE_PATH": filepath.Join(dir, "gridbot.db")}
	for k, v := range be.env {
		env[k] = v
	}
	if be.name != "sqlite" {
		env["GRIDBOT_MYSQL_DSN"] = freshMySQL(t)
	}
	cfgPath := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf("listen: 127.0.0.1:0\ndata_dir: %s\nwecom:\n  simulate: true\n  corp_id: %s\n  agent_id: %d\n  secret: %s\n  token: %s\n  aes_key: %s\nredis:\n  key_prefix: \"w%d:\"\nlog:\n  level: warn\n",
		dir, tCorp, tAgent, tSecret, tToken, tAESKey, time.Now().UnixNano())), 0o600)
	cfg, err := LoadConfig(cfgPath, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	clk := &testClock{t: start}
	a, err := newApp(context.Background(), cfg, ln, io.Discard, deps{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	go a.http.Serve(ln)
	t.Cleanup(func() {
		a.http.Close()
		a.close()
	})
	return &world{t: t, app: a, clk: clk, fake: a.sim.Fake, roster: a.roster}
}

// drain runs the inbox processor and the outbox dispatcher until both are idle.
func (w *world) drain() {
	w.t.Helper()
	ctx := context.Background()
	for i := 0; i < 200; i++ {
		n1, err := w.app.processor.RunOnce(ctx)
		if err != nil {
			w.t.Fatal(err)
		}
		n2, err := w.app.dispatcher.RunOnce(ctx)
		if err != nil {
			w.t.Fatal(err)
		}
		if n1+n2 == 0 {
			return
		}
	}
	w.t.Fatal("the workers never went idle")
}

// sweep runs the deadline sweeper once, then drains.
func (w *world) sweep() int {
	w.t.Helper()
	n, err := w.app.sweeper.RunOnce(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	w.drain()
	return n
}

func (w *world) post(m bot.Inbound) {
	w.t.Helper()
	m.CorpID, m.AgentID = tCorp, fmt.Sprint(tAgent)
	m.CreateTime = w.clk.Now().Truncate(time.Second)
	code, err := w.app.sim.Post(context.Background(), m)
	if err != nil || code != http.StatusOK {
		w.t.Fatalf("callback answered %d, %v", code, err)
	}
	w.drain()
}

var msgSeq struct {
	sync.Mutex
	n int64
}

func nextMsgID() string {
	msgSeq.Lock()
	defer msgSeq.Unlock()
	msgSeq.n++
	return fmt.Sprint(7_000_000_000 + msgSeq.n)
}

func (w *world) text(user, s string) {
	w.t.Helper()
	w.post(bot.Inbound{Kind: bot.KindText, MsgType: "text", UserID: user, MsgID: nextMsgID(), Content: s})
}

// photo sends a small PNG (a new one each time) as WeCom would.
func (w *world) photo(user string) string {
	w.t.Helper()
	w.photoN++
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	img.Set(w.photoN%8, w.photoN/8%8, color.RGBA{R: 200, A: 255})
	var b bytes.Buffer
	png.Encode(&b, img)
	id := w.fake.AddMedia(b.Bytes(), "image/png", "photo.png")
	w.post(bot.Inbound{Kind: bot.KindImage, MsgType: "image", UserID: user, MsgID: nextMsgID(), MediaID: id, PicURL: "https://wework.qpic.cn/x/" + id})
	return id
}

func (w *world) location(user string, lat, lng float64, label string) {
	w.t.Helper()
	w.post(bot.Inbound{Kind: bot.KindLocation, MsgType: "location", UserID: user, MsgID: nextMsgID(), Lat: lat, Lng: lng, Scale: 15, Label: label})
}

// gridPoint is a point inside a grid of the demo roster.
func (w *world) gridPoint(grid string) (lat, lng float64) {
	g, ok := w.roster.Grid(grid)
	if !ok {
		w.t.Fatalf("no grid %s", grid)
	}
	return g.Center.Lat(), g.Center.Lon()
}

// sentCard is a template card a member received.
type sentCard struct {
	TaskID  string
	Title   string
	Desc    string
	Sub     string
	Buttons map[string]string // key → text
}

func (w *world) cards(user string) []sentCard {
	var out []sentCard
	for _, m := range w.fake.Messages(user) {
		if m.API != "message/send" || m.MsgType != "template_card" {
			continue
		}
		var body struct {
			Card struct {
				TaskID    string `json:"task_id"`
				MainTitle struct {
					Title string `json:"title"`
					Desc  string `json:"desc"`
				} `json:"main_title"`
				Sub     string `json:"sub_title_text"`
				Buttons []struct {
					Text string `json:"text"`
					Key  string `json:"key"`
				} `json:"button_list"`
			} `json:"template_card"`
		}
		if err := json.Unmarshal(m.Body, &body); err != nil {
			w.t.Fatal(err)
		}
		c := sentCard{TaskID: body.Card.TaskID, Title: body.Card.MainTitle.Title, Desc: body.Card.MainTitle.Desc, Sub: body.Card.Sub, Buttons: map[string]string{}}
		for _, b := range body.Card.Buttons {
			c.Buttons[b.Key] = b.Text
		}
		out = append(out, c)
	}
	return out
}

// lastCard is the newest card a member got; the test fails if it lacks key.
func (w *world) lastCard(user, key string) sentCard {
	w.t.Helper()
	cs := w.cards(user)
	if len(cs) == 0 {
		w.t.Fatalf("%s got no card; texts: %q", user, w.texts(user))
	}
	c := cs[len(cs)-1]
	if key != "" {
		if _, ok := c.Buttons[key]; !ok {
			w.t.Fatalf("%s's last card %q has no button %s: %v; texts: %q", user, c.Title, key, c.Buttons, w.texts(user))
		}
	}
	return c
}

// click taps a button as WeCom sends it: a template_card_event with a fresh
// response code.
func (w *world) click(user string, card sentCard, key string) {
	w.t.Helper()
	w.post(w.clickEvent(user, card, key))
}

func (w *world) clickEvent(user string, card sentCard, key string) bot.Inbound {
	return bot.Inbound{Kind: bot.KindCardClick, MsgType: "event", Event: "template_card_event", UserID: user,
		EventKey: key, TaskID: card.TaskID, CardType: "button_interaction", ResponseCode: w.fake.IssueResponseCode(user, card.TaskID)}
}

// texts are the text messages a member got, oldest first.
func (w *world) texts(user string) []string {
	var out []string
	for _, m := range w.fake.Messages(user) {
		if m.MsgType != "text" {
			continue
		}
		var body struct {
			Text struct {
				Content string `json:"content"`
			} `json:"text"`
		}
		json.Unmarshal(m.Body, &body)
		out = append(out, body.Text.Content)
	}
	return out
}

func (w *world) lastText(user string) string {
	ts := w.texts(user)
	if len(ts) == 0 {
		return ""
	}
	return ts[len(ts)-1]
}

// report files a case as an inspector would: photo, location, text, then
// confirms (picking the first category when the bot was unsure).
func (w *world) report(user, grid, text string) bot.Case {
	w.t.Helper()
	lat, lng := w.gridPoint(grid)
	w.photo(user)
	w.location(user, lat, lng, "测试路口")
	w.text(user, text)
	card := w.lastCard(user, "")
	if _, ok := card.Buttons["confirm"]; !ok {
		for k := range card.Buttons {
			if strings.HasPrefix(k, "pick:") {
				w.click(user, card, k)
				break
			}
		}
		card = w.lastCard(user, "confirm")
	}
	w.click(user, card, "confirm")
	return w.newestCase()
}

func (w *world) newestCase() bot.Case {
	w.t.Helper()
	list, _, err := w.app.db.Cases().List(context.Background(), bot.CaseFilter{Limit: 1})
	if err != nil || len(list) == 0 {
		w.t.Fatalf("no case (%v)", err)
	}
	return list[0]
}

func (w *world) caseByNo(no string) bot.Case {
	w.t.Helper()
	k, err := w.app.db.Cases().GetByNo(context.Background(), no)
	if err != nil {
		w.t.Fatal(err)
	}
	return k
}

func (w *world) events(id int64) []bot.Event {
	w.t.Helper()
	evs, err := w.app.db.Cases().Events(context.Background(), id)
	if err != nil {
		w.t.Fatal(err)
	}
	return evs
}

func (w *world) first(ps []roster.Person) string {
	w.t.Helper()
	if len(ps) == 0 {
		w.t.Fatal("nobody in that role")
	}
	return ps[0].UserID
}

func (w *world) wantStatus(no string, want bot.Status) bot.Case {
	w.t.Helper()
	k := w.caseByNo(no)
	if k.Status != want {
		evs := w.events(k.ID)
		w.t.Fatalf("%s is %s, want %s; events: %+v", no, k.Status, want, evs)
	}
	return k
}

// locEvent is WeCom's periodic LOCATION event.
func (w *world) locEvent(user string, lat, lng float64) bot.Inbound {
	return bot.Inbound{Kind: bot.KindLocEvent, MsgType: "event", Event: "LOCATION", UserID: user, Lat: lat, Lng: lng, Precision: 30}
}
