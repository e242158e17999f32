package handlers

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"gridbot/bot"
	"gridbot/bot/roster"
	"gridbot/bot/wecom/wecomfake"
	"gridbot/templates"

	"github.com/gin-gonic/gin"
)

// The demo's states.
const (
	DemoIdle    = "idle"
	DemoRunning = "running"
	DemoDone    = "done"
	DemoFailed  = "failed"
)

// DemoProgress is where the scripted demo is. GET /sim/api/demo answers it
// and the page shows its captions.
type DemoProgress struct {
	State     string   `json:"state"` // idle, running, done, failed
	Step      int      `json:"step"`  // the step playing (1-based), or the last one played
	Total     int      `json:"total"` // the steps planned (a step may be added on the way)
	Caption   string   `json:"caption"`
	Actor     string   `json:"actor,omitempty"` // the userid acting now: the page follows them
	ActorName string   `json:"actor_name,omitempty"`
	CaseNo    string   `json:"case_no,omitempty"`
	Error     string   `json:"error,omitempty"`
	Captions  []string `json:"captions"` // every step's caption so far, oldest first
	Version   int64    `json:"version"`  // changes with every update
}

// DemoOptions tunes PlayDemo.
type DemoOptions struct {
	// Pause is how long each step is shown before it is played, so a
	// visitor can follow; 0 plays as fast as the bot answers (tests).
	Pause time.Duration
	// Wait is how long a step waits for the bot's answer to arrive at the
	// fake WeCom (default 30 s).
	Wait time.Duration
	// OnStep, when set, is called as each step starts and once at the end.
	OnStep func(DemoProgress)
}

// DefaultDemoPause is the page's pause between steps.
const DefaultDemoPause = 2 * time.Second

// demoSteps is the number of steps of the story without detours.
const demoSteps = 10

// PlayDemo plays the scripted story once, as the real people of the
// roster and through the real callback: an inspector reports a problem
// (photo, location, text) and confirms, the district's chief calls the
// guidance officer, the officer accepts, handles and sends an after-photo,
// the inspector verifies and the case closes. It finds every card by
// reading what the fake WeCom received and waits for each to arrive. It
// returns the final progress, with the case number; it fails with
// ECONFLICT while another demo is playing.
func (s *Sim) PlayDemo(ctx context.Context, opts DemoOptions) (DemoProgress, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := s.claimDemo(cancel); err != nil {
		return s.demoProgress(), err
	}
	return s.playDemo(ctx, opts)
}

// claimDemo marks a demo as playing; stop stops it (at shutdown).
func (s *Sim) claimDemo(stop context.CancelFunc) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.demo.State == DemoRunning {
		return bot.Errorf(bot.ECONFLICT, "a demo is already playing")
	}
	s.demo = DemoProgress{State: DemoRunning, Total: demoSteps, Captions: []string{}, Version: s.demo.Version + 1}
	s.stopDemo = stop
	s.notifyLocked()
	return nil
}

// demoProgress returns a copy of the demo's progress.
func (s *Sim) demoProgress() DemoProgress {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.demo
	if d.State == "" {
		d.State = DemoIdle
	}
	d.Captions = append([]string{}, d.Captions...)
	return d
}

// updateDemo changes the progress and notifies the streams; it returns
// the new progress.
func (s *Sim) updateDemo(change func(d *DemoProgress)) DemoProgress {
	s.mu.Lock()
	change(&s.demo)
	s.demo.Version++
	s.notifyLocked()
	s.mu.Unlock()
	return s.demoProgress()
}

// playDemo plays a claimed demo to its end.
func (s *Sim) playDemo(ctx context.Context, opts DemoOptions) (DemoProgress, error) {
	if opts.Wait <= 0 {
		opts.Wait = 30 * time.Second
	}
	p := &demoPlay{s: s, ctx: ctx, opts: opts}
	err := p.prepare()
	if err == nil {
		err = p.play()
	}
	final := s.updateDemo(func(d *DemoProgress) {
		s.stopDemo = nil
		if err == nil {
			d.State, d.Caption = DemoDone, p.word("done")
			d.Captions = append(d.Captions, d.Caption)
			return
		}
		d.State, d.Error = DemoFailed, p.failure(err)
		d.Caption = d.Error
	})
	if opts.OnStep != nil {
		opts.OnStep(final)
	}
	if err != nil {
		return final, errors.New(final.Error)
	}
	return final, nil
}

// demoPlay is one playing of the story.
type demoPlay struct {
	s     *Sim
	ctx   context.Context
	opts  DemoOptions
	words *templates.Set

	grid      roster.Grid
	inspector roster.Person
	chief     roster.Person
	officers  []roster.Person // guidance officers serving the grid's district
	officer   roster.Person   // the one who got the case
	data      demoWords
	mark      int64 // the fake WeCom's newest record before the last action
	err       error // the first failure; every step after it does nothing
}

// demoWords is what the captions (templates/simdemo.tmpl) are executed with.
type demoWords struct {
	Inspector, Grid, District, Chief, Officer, Dept string
	Text, Button, CaseNo, Who, What                 string
	Seconds                                         int
}

// demoError is a failure already worded for the page.
type demoError struct{ msg string }

func (e demoError) Error() string { return e.msg }

// prepare loads the words and picks the cast: the inspector of grid dc01
// (else of the first grid that has one, a chief and guidance officers).
func (p *demoPlay) prepare() error {
	words, err := templates.Load()
	if err != nil {
		return err
	}
	p.words = words
	r := p.s.Roster
	grids := slices.Clone(r.Grids)
	if i := slices.IndexFunc(grids, func(g roster.Grid) bool { return g.ID == "dc01" }); i > 0 {
		grids[0], grids[i] = grids[i], grids[0]
	}
	for _, g := range grids {
		inspectors, officers := r.InspectorsOf(g.ID), r.Guidance(g.District, "")
		i := slices.IndexFunc(r.Chiefs(g.District), func(p roster.Person) bool { return p.HasRole(roster.RoleChief) })
		if len(inspectors) == 0 || len(officers) == 0 || i < 0 {
			continue
		}
		p.grid, p.inspector, p.chief, p.officers = g, inspectors[0], r.Chiefs(g.District)[i], officers
		d, _ := r.District(g.District)
		p.data = demoWords{Inspector: p.inspector.Name, Grid: g.Name, District: d.Name, Chief: p.chief.Name}
		return nil
	}
	return demoError{p.word("no_cast")}
}

// play is the story, step by step. Each helper does nothing once a step
// has failed (p.err), so the story reads as a script.
func (p *demoPlay) play() error {
	insp := p.inspector
	p.say("photo", insp)
	p.send(simSend{From: insp.UserID, Type: "image", Image: demoPhoto(false)})
	p.awaitReply(insp)

	p.say("location", insp)
	p.send(simSend{From: insp.UserID, Type: "location", Lat: p.grid.Center.Lat(), Lng: p.grid.Center.Lon(), Label: p.word("place")})
	p.awaitReply(insp)

	p.data.Text = p.word("report_text")
	p.say("text", insp)
	p.send(simSend{From: insp.UserID, Type: "text", Text: p.data.Text})
	draft := p.draftCard()

	p.press("confirm", insp, draft, "confirm")
	chief := p.awaitCard("what_chief", p.chief, "call_guidance")
	p.awaitCaseNo()

	p.press("chief", p.chief, chief, "call_guidance")
	officer := p.awaitOfficer()

	p.press("accept", p.officer, officer, "accept")
	working := p.awaitCard("what_handling", p.officer, "handled")

	p.press("handled", p.officer, working, "handled")
	p.awaitReply(p.officer)

	p.say("after_photo", p.officer)
	p.send(simSend{From: p.officer.UserID, Type: "image", Image: demoPhoto(true)})
	verify := p.awaitCard("what_verify", insp, "verify_ok")

	p.press("verify", insp, verify, "verify_ok")
	p.awaitReply(insp)

	p.data.Text = p.word("skip")
	p.say("close", insp)
	p.send(simSend{From: insp.UserID, Type: "text", Text: p.data.Text})
	p.await("what_closed", insp, func() bool {
		for _, m := range p.s.Fake.Messages(insp.UserID) {
			if m.Seq > p.mark && m.MsgType == "text" && strings.Contains(string(m.Body), p.data.CaseNo) {
				return true
			}
		}
		return false
	})
	return p.err
}

// draftCard waits for the card answering the report and, when the bot is
// unsure of the category or offers a similar open case, takes the detour
// (the first proposed category; a new case) until the card to confirm.
func (p *demoPlay) draftCard() demoCard {
	for range 4 {
		card := p.awaitCard("what_draft", p.inspector, "confirm", "new", "pick:")
		if p.err != nil || card.has("confirm") {
			return card
		}
		step, key := "new", "new"
		if !card.has("new") {
			step, key = "pick", card.first("pick:")
		}
		p.s.updateDemo(func(d *DemoProgress) { d.Total++ })
		p.press(step, p.inspector, card, key)
	}
	p.fail(p.timeout("what_draft", p.inspector))
	return demoCard{}
}

// awaitOfficer waits for a guidance officer serving the district to get the
// case's card, and makes them the officer of the story.
func (p *demoPlay) awaitOfficer() demoCard {
	var found demoCard
	p.await("what_officer", roster.Person{Name: p.word("officers")}, func() bool {
		for _, o := range p.officers {
			if c, ok := p.newestCard(o.UserID, p.mark, "accept"); ok {
				found, p.officer = c, o
				return true
			}
		}
		return false
	})
	p.data.Officer, p.data.Dept = p.officer.Name, string(p.officer.Dept)
	return found
}

// awaitCaseNo waits for the reporter to be told the case number.
func (p *demoPlay) awaitCaseNo() {
	no := regexp.MustCompile(regexp.QuoteMeta(p.s.Roster.Subdistrict.Code) + `-\d{8}-\d+`)
	p.await("what_case", p.inspector, func() bool {
		for _, m := range p.s.Fake.Messages(p.inspector.UserID) {
			if m.Seq > p.mark && m.MsgType == "text" {
				if n := no.FindString(string(m.Body)); n != "" {
					p.data.CaseNo = n
					return true
				}
			}
		}
		return false
	})
}

// awaitReply waits for anything new to reach who since the last action: a
// message or a card update.
func (p *demoPlay) awaitReply(who roster.Person) {
	p.await("what_reply", who, func() bool {
		ms := p.s.Fake.Messages(who.UserID)
		return len(ms) > 0 && ms[len(ms)-1].Seq > p.mark
	})
}

// awaitCard waits for who to get a card since the last action with a
// button whose key is one of keys (a key ending in ":" is a prefix).
func (p *demoPlay) awaitCard(what string, who roster.Person, keys ...string) demoCard {
	var found demoCard
	p.await(what, who, func() bool {
		c, ok := p.newestCard(who.UserID, p.mark, keys...)
		found = c
		return ok
	})
	return found
}

// await waits, up to opts.Wait, until cond holds; cond is checked after
// every request the fake WeCom records.
func (p *demoPlay) await(what string, who roster.Person, cond func() bool) {
	if p.err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(p.ctx, p.opts.Wait)
	defer cancel()
	if err := p.s.Fake.Wait(ctx, func(*wecomfake.Fake) bool { return cond() }); err != nil {
		if p.ctx.Err() != nil {
			p.fail(p.ctx.Err())
			return
		}
		p.fail(p.timeout(what, who))
	}
}

func (p *demoPlay) timeout(what string, who roster.Person) error {
	d := p.data
	d.Who, d.What, d.Seconds = who.Name, p.word(what), int(p.opts.Wait.Seconds())
	return demoError{p.execute("timeout", d)}
}

// fail keeps the first failure.
func (p *demoPlay) fail(err error) {
	if p.err == nil {
		p.err = err
	}
}

// failure words err for the page.
func (p *demoPlay) failure(err error) string {
	var de demoError
	switch {
	case p.ctx.Err() != nil, errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return p.word("stopped")
	case errors.As(err, &de):
		return de.msg
	}
	return err.Error()
}

// say starts a step: its caption and actor go to the page (which follows
// the actor), then the pause lets the visitor look.
func (p *demoPlay) say(step string, actor roster.Person) {
	if p.err != nil {
		return
	}
	caption := p.word(step)
	d := p.s.updateDemo(func(d *DemoProgress) {
		d.Step++
		d.Total = max(d.Total, d.Step)
		d.Caption, d.Actor, d.ActorName, d.CaseNo = caption, actor.UserID, actor.Name, p.data.CaseNo
		d.Captions = append(d.Captions, caption)
	})
	if p.opts.OnStep != nil {
		p.opts.OnStep(d)
	}
	if p.opts.Pause <= 0 {
		p.fail(p.ctx.Err())
		return
	}
	t := time.NewTimer(p.opts.Pause)
	defer t.Stop()
	select {
	case <-t.C:
	case <-p.ctx.Done():
		p.fail(p.ctx.Err())
	}
}

// press is a step that taps a button: the caption names the button as the
// card shows it.
func (p *demoPlay) press(step string, who roster.Person, c demoCard, key string) {
	p.data.Button = c.text(key)
	p.say(step, who)
	if p.err != nil {
		return
	}
	p.mark = p.s.Fake.Seq()
	_, status, err := p.s.tap(p.ctx, who.UserID, c.TaskID, key)
	p.fail(callbackErr(status, err))
}

// send sends a message as a member through the real callback.
func (p *demoPlay) send(m simSend) {
	if p.err != nil {
		return
	}
	p.mark = p.s.Fake.Seq()
	_, status, err := p.s.act(p.ctx, m)
	p.fail(callbackErr(status, err))
}

func callbackErr(status int, err error) error {
	if err == nil && status != http.StatusOK {
		err = bot.Errorf(bot.EUNAVAILABLE, "the callback answered %d", status)
	}
	return err
}

// word renders a caption with the story's data so far.
func (p *demoPlay) word(name string) string { return p.execute(name, p.data) }

func (p *demoPlay) execute(name string, data demoWords) string {
	if p.words == nil {
		return name
	}
	out, err := p.words.Render("demo."+name, data)
	if err != nil {
		return name
	}
	return out
}

// demoCard is a card a member holds, as it is now.
type demoCard struct {
	TaskID  string
	Buttons []demoButton
}

type demoButton struct {
	Key  string `json:"key"`
	Text string `json:"text"`
}

// match reports whether key is one of keys; a key ending in ":" is a prefix.
func match(key string, keys []string) bool {
	return slices.ContainsFunc(keys, func(k string) bool {
		return k == key || strings.HasSuffix(k, ":") && strings.HasPrefix(key, k)
	})
}

func (c demoCard) has(keys ...string) bool {
	return slices.ContainsFunc(c.Buttons, func(b demoButton) bool { return match(b.Key, keys) })
}

func (c demoCard) first(prefix string) string {
	for _, b := range c.Buttons {
		if match(b.Key, []string{prefix}) {
			return b.Key
		}
	}
	return ""
}

func (c demoCard) text(key string) string {
	for _, b := range c.Buttons {
		if b.Key == key {
			return b.Text
		}
	}
	return key
}

// newestCard is the newest card user got after mark that still has its
// buttons (not answered yet) and has one of keys.
func (p *demoPlay) newestCard(user string, mark int64, keys ...string) (demoCard, bool) {
	ms := p.s.Fake.Messages(user)
	for i := len(ms) - 1; i >= 0 && ms[i].Seq > mark; i-- {
		m := ms[i]
		if m.API != "message/send" || m.MsgType != "template_card" || m.TaskID == "" {
			continue
		}
		state, ok := p.s.Fake.Card(m.TaskID)
		if !ok {
			continue
		}
		var card struct {
			ReplaceText string       `json:"replace_text"`
			Buttons     []demoButton `json:"button_list"`
		}
		if json.Unmarshal(state, &card) != nil || card.ReplaceText != "" {
			continue
		}
		c := demoCard{TaskID: m.TaskID, Buttons: card.Buttons}
		if c.has(keys...) {
			return c, true
		}
	}
	return demoCard{}, false
}

// demoPhoto draws a small street scene as a base64 PNG: a litter bin,
// overflowing before, tidy after.
func demoPhoto(tidy bool) string {
	const w, h = 240, 180
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	fill := func(x0, y0, x1, y1 int, c color.RGBA) {
		for y := max(y0, 0); y < min(y1, h); y++ {
			for x := max(x0, 0); x < min(x1, w); x++ {
				img.SetRGBA(x, y, c)
			}
		}
	}
	for y := 0; y < h; y++ { // sky, then pavement
		c := color.RGBA{R: uint8(150 + y/3), G: uint8(190 + y/6), B: 235, A: 255}
		if y >= 95 {
			c = color.RGBA{R: 170, G: 170, B: 165, A: 255}
		}
		fill(0, y, w, y+1, c)
	}
	fill(0, 60, 70, 95, color.RGBA{R: 196, G: 160, B: 120, A: 255})    // a building
	fill(170, 40, 240, 95, color.RGBA{R: 180, G: 140, B: 110, A: 255}) // another
	fill(95, 85, 145, 150, color.RGBA{R: 40, G: 140, B: 70, A: 255})   // the bin
	fill(90, 78, 150, 88, color.RGBA{R: 30, G: 110, B: 55, A: 255})    // its lid
	if !tidy {
		for i, spot := range [][4]int{{80, 60, 100, 82}, {110, 55, 135, 80}, {140, 65, 160, 84}, {60, 140, 85, 155}, {150, 145, 178, 160}, {120, 152, 138, 166}} {
			fill(spot[0], spot[1], spot[2], spot[3], color.RGBA{R: uint8(200 - 20*i), G: uint8(80 + 15*i), B: 40, A: 255})
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return base64.StdEncoding.EncodeToString(b.Bytes())
}

// demoStart is the optional body of POST /sim/api/demo.
type demoStart struct {
	PauseMS *int `json:"pause_ms"`
}

// startDemo answers POST /sim/api/demo: the demo starts in the background
// (202 with its progress); 409 while one is playing.
func (s *Sim) startDemo(c *gin.Context) {
	var req demoStart
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, 4<<10))
	if err == nil && len(bytes.TrimSpace(body)) > 0 {
		err = json.Unmarshal(body, &req)
	}
	pause := DefaultDemoPause
	if req.PauseMS != nil {
		pause = time.Duration(*req.PauseMS) * time.Millisecond
	}
	if err != nil || pause < 0 || pause > 10*time.Second {
		writeError(c, bot.Errorf(bot.EINVALID, "the body is optional JSON {\"pause_ms\": 0 to 10000}"))
		return
	}
	s.watchShutdown(c.Request)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	if err := s.claimDemo(cancel); err != nil {
		cancel()
		writeError(c, err)
		return
	}
	go func() {
		defer cancel()
		_, _ = s.playDemo(ctx, DemoOptions{Pause: pause})
	}()
	c.JSON(http.StatusAccepted, s.demoProgress())
}

// demoStatus answers GET /sim/api/demo.
func (s *Sim) demoStatus(c *gin.Context) {
	c.JSON(http.StatusOK, s.demoProgress())
}
