package bot

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gridbot/bot/classify"
	"gridbot/bot/roster"
	"gridbot/templates"
)

// Service is gridbot's conversation and case loop: it turns what members
// send and tap into drafts, cases, transitions, cards and messages.
type Service struct {
	T          *templates.Set
	Roster     *roster.Roster
	Classifier *classify.Classifier
	Sessions   KV
	Policy     Policy
	DraftTTL   time.Duration // a report may be assembled over this long (10 min)
	PendingTTL time.Duration // an action waits this long for its photo or text (30 min)
	DupMeters  float64       // open cases of the same code this close are offered for 附议 (50 m)
}

var _ SessionHandler = (*Service)(nil)

func (s *Service) draftTTL() time.Duration {
	if s.DraftTTL <= 0 {
		return 10 * time.Minute
	}
	return s.DraftTTL
}

func (s *Service) pendingTTL() time.Duration {
	if s.PendingTTL <= 0 {
		return 30 * time.Minute
	}
	return s.PendingTTL
}

func (s *Service) dupMeters() float64 {
	if s.DupMeters <= 0 {
		return 50
	}
	return s.DupMeters
}

func sessionKey(user string) string { return "user:" + user }

// Before loads the sender's session.
func (s *Service) Before(ctx context.Context, d *Delivery) error {
	d.Session = &Session{}
	if d.Msg.UserID == "" {
		return nil
	}
	b, ok, err := s.Sessions.Get(ctx, sessionKey(d.Msg.UserID))
	if err != nil {
		return err
	}
	if ok {
		d.Session = decodeSession(b)
	}
	return nil
}

// After saves the session when Handle changed it.
func (s *Service) After(ctx context.Context, d *Delivery) error {
	if !d.dirty || d.Msg.UserID == "" {
		return nil
	}
	if d.Session.empty() {
		return s.Sessions.Delete(ctx, sessionKey(d.Msg.UserID))
	}
	ttl := s.draftTTL()
	if d.Session.Pending != nil && s.pendingTTL() > ttl {
		ttl = s.pendingTTL()
	}
	if d.Session.Patrol != 0 {
		ttl = 24 * time.Hour // a patrol may take the whole day
	}
	return s.Sessions.Set(ctx, sessionKey(d.Msg.UserID), encodeSession(d.Session), ttl)
}

// conv is one delivery being handled: the transaction, the sender and the
// session, with helpers to answer.
type conv struct {
	s   *Service
	ctx context.Context
	tx  Tx
	d   *Delivery
	me  roster.Person
	now time.Time
	n   int // messages sent so far, for their keys
}

// Handle implements Handler.
func (s *Service) Handle(ctx context.Context, tx Tx, d *Delivery) error {
	if d.Session == nil {
		d.Session = &Session{}
	}
	m := d.Msg
	switch m.Kind {
	case KindEnter, KindUnknown:
		return nil // app opens need no answer
	}
	me, ok := s.Roster.Person(m.UserID)
	c := &conv{s: s, ctx: ctx, tx: tx, d: d, me: me, now: tx.Now()}
	if !ok {
		if m.Kind == KindLocEvent {
			return nil // periodic reports from outside the roster: silence
		}
		return c.say(templates.MsgNotRegistered, nil)
	}
	c.expire()
	switch m.Kind {
	case KindText:
		return c.text(strings.TrimSpace(m.Content))
	case KindImage:
		return c.photo(m.MediaID)
	case KindLocation:
		return c.location(m.Lat, m.Lng, m.Label)
	case KindLocEvent:
		// Periodic reports (when the app asks for them) extend a patrol's track.
		_, err := c.trackPoint(m.Lat, m.Lng, false)
		return err
	case KindClick:
		return c.menu(m.EventKey)
	case KindCardClick:
		return c.click(m.TaskID, m.EventKey, m.ResponseCode)
	case KindVoice, KindVideo:
		return c.say(templates.MsgVoiceUnsupported, nil)
	}
	return nil
}

// expire drops a draft or pending action past its time.
func (c *conv) expire() {
	ss := c.d.Session
	if ss.Draft != nil && c.now.Sub(ss.Draft.Updated) > c.s.draftTTL() {
		ss.Draft = nil
		c.d.dirty = true
	}
	if ss.Pending != nil && c.now.After(ss.Pending.Until) {
		ss.Pending = nil
		c.d.dirty = true
	}
}

// text handles a typed line: a command, the answer to a pending action, or
// part of a report.
func (c *conv) text(t string) error {
	cmd, arg := splitCommand(t)
	switch cmd {
	case "帮助", "help", "?", "？":
		return c.help()
	case "取消":
		return c.cancel()
	case "上报":
		return c.say(templates.MsgDraftStart, nil)
	case "我的待办", "待办":
		return c.todo()
	case "查询":
		return c.query(arg)
	case "居民反映", "代居民上报":
		return c.resident(arg)
	}
	if ok, err := c.rhythmCommand(t); ok {
		return err
	}
	if p := c.d.Session.Pending; p != nil && p.Need == "text" {
		return c.answerPending(t, nil)
	}
	if p := c.d.Session.Pending; p != nil && p.Need == "photo" && t == "跳过" {
		return c.answerPending("", nil)
	}
	return c.draftText(t)
}

// splitCommand splits "查询 DJ-…" into the command and its argument.
func splitCommand(t string) (string, string) {
	for _, cmd := range []string{"查询", "居民反映", "代居民上报"} {
		if strings.HasPrefix(t, cmd) {
			return cmd, strings.TrimSpace(strings.TrimPrefix(t, cmd))
		}
	}
	return strings.ToLower(t), ""
}

// menu handles the app menu's click keys.
func (c *conv) menu(key string) error {
	switch key {
	case "report":
		return c.say(templates.MsgDraftStart, nil)
	case "todo":
		return c.todo()
	case "query":
		return c.say(templates.MsgQueryFormat, templates.ExampleData{Example: c.exampleNo()})
	case "cancel":
		return c.cancel()
	case "resident":
		return c.say(templates.MsgResidentFormat, nil)
	case "patrol_start":
		return c.patrolStart()
	case "patrol_end":
		return c.patrolEnd()
	case "visit":
		return c.visit("")
	case "activity":
		return c.say(templates.MsgActivityFormat, nil)
	}
	return c.help()
}

// help tells the member what they can do, by their roles.
func (c *conv) help() error {
	p := c.me
	station := p.HasRole(roster.RoleStationStaff) || p.HasRole(roster.RoleChief) || p.HasRole(roster.RoleDeputy)
	return c.say(templates.Help, templates.HelpData{Name: p.Name, Reporter: p.HasRole(roster.RoleInspector) || station,
		Inspector: p.HasRole(roster.RoleInspector), Station: station, Guidance: p.HasRole(roster.RoleGuidance)})
}

func (c *conv) cancel() error {
	ss := c.d.Session
	if ss.Draft == nil && ss.Pending == nil {
		return c.say(templates.MsgDraftNone, nil)
	}
	ss.Draft, ss.Pending = nil, nil
	c.d.dirty = true
	return c.say(templates.MsgDraftCancelled, nil)
}

// say sends one rendered text to the sender.
func (c *conv) say(name string, data any) error {
	return c.tell(c.me.UserID, name, data)
}

// tell sends one rendered text to a member, keyed by this delivery.
func (c *conv) tell(user, name string, data any) error {
	if user == "" {
		user = c.d.Msg.UserID
	}
	text, err := c.s.T.Render(name, data)
	if err != nil {
		return err
	}
	c.n++
	return c.tx.Enqueue(c.ctx, NewTextMessage(fmt.Sprintf("msg:%s:%d:%s", c.d.DedupeKey, c.n, user), user, text))
}

// word renders a template that cannot fail on good data; a failure shows
// as the name, which the golden tests would catch.
func (c *conv) word(name string, data any) string {
	t, err := c.s.T.Render(name, data)
	if err != nil {
		return name
	}
	return t
}

func (c *conv) exampleNo() string {
	return c.s.Roster.Subdistrict.Code + "-" + c.now.In(c.s.Policy.Zone).Format("20060102") + "-001"
}

// newTaskID is an unguessable task_id: [0-9a-zA-Z], 24 characters.
func newTaskID() string {
	const alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b := make([]byte, 22)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "gb" + string(b)
}

// MaskPhone shows 138****8000 for a mobile number; other strings keep
// their first three and last four characters at most.
func MaskPhone(p string) string {
	if utf8.RuneCountInString(p) < 7 {
		return strings.Repeat("*", utf8.RuneCountInString(p))
	}
	r := []rune(p)
	return string(r[:3]) + strings.Repeat("*", len(r)-7) + string(r[len(r)-4:])
}

// isConflict reports a lost compare-and-set: the transaction is rolled back
// and the delivery retried, when it will see the case as it now is.
func isConflict(err error) bool { return ErrorCode(err) == ECONFLICT }
