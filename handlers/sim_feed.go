package handlers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"gridbot/bot"
	"gridbot/bot/wecom/wecomfake"

	"github.com/gin-gonic/gin"
)

// SentEntry is one thing the simulator sent as a member: the page shows
// it as the member's own bubble (WeCom keeps the member's side of a chat on
// the phone, not in the API, so the fake WeCom does not have it).
type SentEntry struct {
	ID       int64     `json:"id"`        // 1, 2, 3 … in sending order
	AfterSeq int64     `json:"after_seq"` // the fake WeCom's newest record when it left
	At       time.Time `json:"at"`
	From     string    `json:"from"`
	Type     string    `json:"type"` // text, image, location, click (menu), card_click, enter_agent
	Text     string    `json:"text,omitempty"`
	Lat      float64   `json:"lat,omitempty"`
	Lng      float64   `json:"lng,omitempty"`
	Label    string    `json:"label,omitempty"`
	MediaID  string    `json:"media_id,omitempty"`
	Key      string    `json:"key,omitempty"`     // the menu or button key
	TaskID   string    `json:"task_id,omitempty"` // the card tapped
	Status   int       `json:"callback_status"`   // what /wecom/callback answered
}

// feedMessage is one delivered request of the fake WeCom, in the shape of
// wecomfake's MessagesHandler.
type feedMessage struct {
	Seq     int64           `json:"seq"`
	At      string          `json:"at"`
	API     string          `json:"api"`
	To      string          `json:"to"`
	MsgType string          `json:"msgtype"`
	Body    json.RawMessage `json:"body"`
	MsgID   string          `json:"msgid,omitempty"`
	TaskID  string          `json:"task_id,omitempty"`
}

func feedOf(r wecomfake.Request) feedMessage {
	return feedMessage{Seq: r.Seq, At: r.At.Format(time.RFC3339), API: r.API, To: r.To, MsgType: r.MsgType,
		Body: r.Body, MsgID: r.MsgID, TaskID: r.TaskID}
}

// logSent records what msg was and notifies the streams.
func (s *Sim) logSent(after int64, msg bot.Inbound, status int) SentEntry {
	e := SentEntry{AfterSeq: after, At: msg.CreateTime, From: msg.UserID, Status: status}
	switch msg.Kind {
	case bot.KindText:
		e.Type, e.Text = "text", msg.Content
	case bot.KindImage:
		e.Type, e.MediaID = "image", msg.MediaID
	case bot.KindLocation:
		e.Type, e.Lat, e.Lng, e.Label = "location", msg.Lat, msg.Lng, msg.Label
	case bot.KindClick:
		e.Type, e.Key = "click", msg.EventKey
	case bot.KindCardClick:
		e.Type, e.Key, e.TaskID = "card_click", msg.EventKey, msg.TaskID
	default:
		e.Type = string(msg.Kind)
	}
	s.mu.Lock()
	s.sentID++
	e.ID = s.sentID
	s.sent = append(s.sent, e)
	if len(s.sent) > maxSentLog {
		s.sent = append([]SentEntry(nil), s.sent[len(s.sent)-maxSentLog:]...)
	}
	s.notifyLocked()
	s.mu.Unlock()
	return e
}

// sentBy returns what the simulator sent as member from after entry id after.
func (s *Sim) sentBy(from string, after int64) []SentEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []SentEntry{}
	for _, e := range s.sent {
		if e.ID > after && e.From == from {
			out = append(out, e)
		}
	}
	return out
}

// messagesTo returns what the fake WeCom delivered to to after seq.
func (s *Sim) messagesTo(to string, after int64) []feedMessage {
	out := []feedMessage{}
	for _, r := range s.Fake.Messages(to) {
		if r.Seq > after {
			out = append(out, feedOf(r))
		}
	}
	return out
}

// groupMessages returns what reached group chats and robots after seq.
func (s *Sim) groupMessages(after int64) []feedMessage {
	out := []feedMessage{}
	for _, r := range s.Fake.Requests() {
		if r.Seq > after && (r.API == "appchat/send" || r.API == "webhook/send") && r.ErrCode == 0 && r.HTTPStatus == 0 {
			out = append(out, feedOf(r))
		}
	}
	return out
}

// cursor reads an optional non-negative integer query parameter.
func cursor(c *gin.Context, name string) (int64, error) {
	v := c.Query(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, bot.Errorf(bot.EINVALID, "%s must be a sequence number", name)
	}
	return n, nil
}

// sentLog answers GET /sim/api/sent?from=USERID&after=N.
func (s *Sim) sentLog(c *gin.Context) {
	from := c.Query("from")
	after, err := cursor(c, "after")
	if err == nil && from == "" {
		err = bot.Errorf(bot.EINVALID, "missing query parameter: from")
	}
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, s.sentBy(from, after))
}

// groups answers GET /sim/api/groups?after=SEQ.
func (s *Sim) groups(c *gin.Context) {
	after, err := cursor(c, "after")
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, s.groupMessages(after))
}

// media answers GET /sim/api/media/ID with a file the fake WeCom holds.
func (s *Sim) media(c *gin.Context) {
	data, ctype, ok := s.Fake.Media(c.Param("id"))
	if !ok {
		writeError(c, bot.Errorf(bot.ENOTFOUND, "no such media"))
		return
	}
	c.Header("Cache-Control", "private, max-age=86400")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Data(http.StatusOK, ctype, data)
}

// bootID names this simulator's instance, so that a page left open across
// a restart (whose sequence numbers start over) notices and reloads.
func (s *Sim) bootID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.boot == "" {
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		s.boot = hex.EncodeToString(b)
	}
	return s.boot
}

// notifyLocked wakes the streams. s.mu is held.
func (s *Sim) notifyLocked() {
	if s.changed != nil {
		close(s.changed)
	}
	s.changed = make(chan struct{})
}

// changes returns a channel closed at the next change of the sent log or
// the demo, and one closed when the server shuts down.
func (s *Sim) changes() (changed, done <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.changed == nil {
		s.changed = make(chan struct{})
	}
	if s.done == nil {
		s.done = make(chan struct{})
	}
	return s.changed, s.done
}

// watchShutdown ties s to the server answering r: when that server shuts
// down, the streams end (so that Shutdown does not wait for them) and a
// demo playing in the background stops.
func (s *Sim) watchShutdown(r *http.Request) {
	srv, ok := r.Context().Value(http.ServerContextKey).(*http.Server)
	if !ok || srv == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hooked[srv] {
		return
	}
	if s.hooked == nil {
		s.hooked = map[*http.Server]bool{}
	}
	s.hooked[srv] = true
	srv.RegisterOnShutdown(s.shutdown)
}

// shutdown ends the streams and the background demo.
func (s *Sim) shutdown() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done == nil {
		s.done = make(chan struct{})
	}
	select {
	case <-s.done:
	default:
		close(s.done)
	}
	if s.stopDemo != nil {
		s.stopDemo()
	}
}

// Stream timing: a comment line keeps idle connections alive, and a stream
// ends after a while so that the browser reconnects with fresh cursors.
const (
	streamHeartbeat = 15 * time.Second
	streamLife      = 2 * time.Minute
)

// streamBatch is one event of /sim/api/stream.
type streamBatch struct {
	Boot     string        `json:"boot"` // this simulator's instance: a new one means the cursors start over
	Messages []feedMessage `json:"messages"`
	Sent     []SentEntry   `json:"sent"`
	Groups   []feedMessage `json:"groups"`
	Demo     *DemoProgress `json:"demo,omitempty"`
}

// stream answers GET /sim/api/stream?user=USERID&after=SEQ&sent=N&groups=SEQ
// with Server-Sent Events: every event is a streamBatch of what is new for
// the member (what the bot sent them, what they sent), for the group chats,
// and the demo's progress when it changed.
func (s *Sim) stream(c *gin.Context) {
	user := c.Query("user")
	var cur [3]int64
	for i, name := range []string{"after", "sent", "groups"} {
		n, err := cursor(c, name)
		if err != nil {
			writeError(c, err)
			return
		}
		cur[i] = n
	}
	s.watchShutdown(c.Request)
	// The server's write timeout would cut the stream: lift it.
	_ = http.NewResponseController(c.Writer).SetWriteDeadline(time.Time{})
	c.Header("Content-Type", "text/event-stream; charset=utf-8")
	c.Header("Cache-Control", "no-cache")
	c.Header("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)
	c.Writer.WriteHeaderNow()
	c.Writer.Flush()

	ctx := c.Request.Context()
	end := time.Now().Add(streamLife)
	demoVersion := int64(-1)
	for time.Now().Before(end) {
		changed, done := s.changes()
		seq := s.Fake.Seq()
		b := streamBatch{Boot: s.bootID(), Messages: []feedMessage{}, Sent: []SentEntry{}, Groups: s.groupMessages(cur[2])}
		if user != "" {
			b.Messages, b.Sent = s.messagesTo(user, cur[0]), s.sentBy(user, cur[1])
		}
		if d := s.demoProgress(); d.Version != demoVersion {
			demoVersion, b.Demo = d.Version, &d
		}
		if n := len(b.Messages); n > 0 {
			cur[0] = b.Messages[n-1].Seq
		}
		if n := len(b.Sent); n > 0 {
			cur[1] = b.Sent[n-1].ID
		}
		if n := len(b.Groups); n > 0 {
			cur[2] = b.Groups[n-1].Seq
		}
		if len(b.Messages)+len(b.Sent)+len(b.Groups) > 0 || b.Demo != nil {
			data, _ := json.Marshal(b)
			if _, err := c.Writer.Write(append(append([]byte("data: "), data...), '\n', '\n')); err != nil {
				return
			}
			c.Writer.Flush()
		}
		switch s.waitChange(ctx, changed, done, seq, streamHeartbeat) {
		case waitEnd:
			return
		case waitIdle:
			if _, err := c.Writer.Write([]byte(": ping\n\n")); err != nil {
				return
			}
			c.Writer.Flush()
		}
	}
}

// What waitChange saw.
const (
	waitChanged = iota // something changed
	waitIdle           // nothing changed for a while
	waitEnd            // the client went away or the server is shutting down
)

// waitChange waits until the fake WeCom records a request after seq, the
// simulator's state changes, idle passes, or the stream must end.
func (s *Sim) waitChange(ctx context.Context, changed, done <-chan struct{}, seq int64, idle time.Duration) int {
	wctx, cancel := context.WithTimeout(ctx, idle)
	defer cancel()
	fake := make(chan error, 1) // buffered: the waiter never blocks on it
	go func() {
		fake <- s.Fake.Wait(wctx, func(f *wecomfake.Fake) bool { return f.Seq() > seq })
	}()
	select {
	case err := <-fake:
		switch {
		case err == nil:
			return waitChanged
		case ctx.Err() != nil:
			return waitEnd
		}
		return waitIdle
	case <-changed:
		return waitChanged
	case <-done:
		return waitEnd
	case <-ctx.Done():
		return waitEnd
	}
}
