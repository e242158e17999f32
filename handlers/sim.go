package handlers

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"gridbot/bot"
	"gridbot/bot/roster"
	"gridbot/bot/wecom"
	"gridbot/bot/wecom/wecomfake"

	"github.com/gin-gonic/gin"
)

// Sim is the simulated WeCom of the embedded default: the fake API and a
// "phone" that sends callbacks to /wecom/callback signed and encrypted
// exactly as WeCom does — over HTTP, with no shortcut into the bot.
//
// Its endpoints (JSON unless noted; a bad request answers 4xx with
// {"error","code"}):
//
//	GET  /sim/                       the simulator's page (HTML; its files under /sim/assets/)
//	GET  /sim/api/users              the roster: [{"userid","name","roles":[…],"district",
//	                                 "district_name","grid","grid_name","dept"}]
//	GET  /sim/api/map                {"name","center":[lng,lat],"districts":[{"id","name"}],
//	                                 "communities":[{"id","name","district"}],"grids":[{"id","name",
//	                                 "district","community","polygon":[[[lng,lat]…]…],"center":[lng,lat]}],
//	                                 "chats":[{"id","name","district","robot"}]}
//	GET  /sim/api/messages?to=ID[&after=SEQ]
//	                                 what the fake WeCom delivered to a member, a chat or
//	                                 "robot:<name>", oldest first: [{"seq","at","api","to","msgtype",
//	                                 "body","msgid","task_id"}] (card updates carry the task_id)
//	GET  /sim/api/groups[?after=SEQ] the same for every group chat and robot
//	GET  /sim/api/sent?from=ID[&after=N]
//	                                 what the simulator sent as a member, oldest first
//	GET  /sim/api/media/ID           a photo (or any media file) the fake WeCom holds
//	GET  /sim/api/stream?user=ID&after=SEQ&sent=N&groups=SEQ
//	                                 Server-Sent Events: {"boot","messages","sent","groups","demo"}
//	                                 as they happen (the page uses this instead of polling)
//	POST /sim/api/send               {"from","type":"text|image|location|click|enter_agent","text",
//	                                 "lat","lng","label","event_key","image_base64"}
//	                                 → {"callback_status","sent"}
//	POST /sim/api/click              {"from","task_id","key"}: a tap on a card button, sent as a
//	                                 template_card_event with a fresh response_code → {"callback_status"}
//	POST /sim/api/demo               [{"pause_ms"}] starts the scripted demo: 202 with its
//	                                 progress, 409 while one is playing
//	GET  /sim/api/demo               the demo's progress: {"state","step","total","caption",
//	                                 "actor","actor_name","case_no","error","captions","version"}
//
// Sim's unexported state (the log of what it sent, the demo, open streams)
// needs no set-up: the zero value works. A Sim must not be copied.
type Sim struct {
	Fake        *wecomfake.Fake
	Crypto      *wecom.Crypto
	AgentID     string
	CallbackURL string
	HTTP        *http.Client
	Clock       bot.Clock // the time callbacks carry (default: now)
	Roster      *roster.Roster

	mu       sync.Mutex
	changed  chan struct{}         // closed and replaced when the log or the demo changes
	done     chan struct{}         // closed when the server shuts down
	hooked   map[*http.Server]bool // servers whose shutdown closes done
	sent     []SentEntry           // what the simulator sent, oldest first, bounded
	sentID   int64                 // the last SentEntry.ID given out
	demo     DemoProgress          // the scripted demo's progress
	stopDemo context.CancelFunc    // stops the demo playing in the background
	boot     string                // names this instance for the streams (bootID)
}

// maxSentLog bounds the log of what the simulator sent.
const maxSentLog = 5000

func (s *Sim) now() time.Time {
	if s.Clock != nil {
		return s.Clock.Now()
	}
	return time.Now()
}

// simSend is what the simulator's page (or curl) posts to /sim/api/send.
type simSend struct {
	From     string  `json:"from" binding:"required"`
	Type     string  `json:"type"` // text (default), image, location, click, enter_agent
	Text     string  `json:"text"`
	Lat      float64 `json:"lat"`
	Lng      float64 `json:"lng"`
	Label    string  `json:"label"`
	EventKey string  `json:"event_key"`
	Image    string  `json:"image_base64"` // a photo, for type image
}

// send turns a simulator action into a real callback.
func (s *Sim) send(c *gin.Context) {
	var req simSend
	if err := c.ShouldBindJSON(&req); err != nil {
		writeError(c, bot.Errorf(bot.EINVALID, "need JSON with from and type"))
		return
	}
	entry, status, err := s.act(c.Request.Context(), req)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"callback_status": status, "sent": entry})
}

// simClick is what the page posts to /sim/api/click when a card button is tapped.
type simClick struct {
	From   string `json:"from"`
	TaskID string `json:"task_id"`
	Key    string `json:"key"`
}

// click turns a tap on a card button into a template_card_event callback.
func (s *Sim) click(c *gin.Context) {
	var req simClick
	if err := c.ShouldBindJSON(&req); err != nil {
		writeError(c, bot.Errorf(bot.EINVALID, "need JSON with from, task_id and key"))
		return
	}
	_, status, err := s.tap(c.Request.Context(), req.From, req.TaskID, req.Key)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"callback_status": status})
}

// act sends one message or menu event as member r.From, logs it, and
// returns the log entry and the status the callback answered. A callback
// that fails to arrive is EUNAVAILABLE.
func (s *Sim) act(ctx context.Context, r simSend) (SentEntry, int, error) {
	msg, err := s.inbound(r)
	if err != nil {
		return SentEntry{}, 0, err
	}
	return s.postLogged(ctx, msg)
}

// tap sends a tap by from on the button key of card taskID, as WeCom does:
// a template_card_event with a fresh response_code and the card's type.
func (s *Sim) tap(ctx context.Context, from, taskID, key string) (SentEntry, int, error) {
	switch {
	case from == "" || taskID == "" || key == "":
		return SentEntry{}, 0, bot.Errorf(bot.EINVALID, "from, task_id and key are required")
	case len(from) > 64 || len(taskID) > 128 || len(key) > 1024:
		return SentEntry{}, 0, bot.Errorf(bot.EINVALID, "from, task_id or key is too long")
	}
	now := s.now()
	msg := bot.Inbound{
		Kind: bot.KindCardClick, MsgType: "event", Event: "template_card_event",
		CorpID: s.Crypto.CorpID(), UserID: from, AgentID: s.AgentID, CreateTime: now.Truncate(time.Second),
		EventKey: key, TaskID: taskID, CardType: s.cardType(taskID),
		ResponseCode: s.Fake.IssueResponseCode(from, taskID),
	}
	return s.postLogged(ctx, msg)
}

// cardType is the card_type of the card taskID as the fake WeCom holds it;
// button_interaction when the fake does not know the card.
func (s *Sim) cardType(taskID string) string {
	if raw, ok := s.Fake.Card(taskID); ok {
		var card struct {
			CardType string `json:"card_type"`
		}
		if json.Unmarshal(raw, &card) == nil && card.CardType != "" {
			return card.CardType
		}
	}
	return bot.CardButton
}

func (s *Sim) inbound(r simSend) (bot.Inbound, error) {
	now := s.now()
	m := bot.Inbound{CorpID: s.Crypto.CorpID(), UserID: r.From, AgentID: s.AgentID, CreateTime: now.Truncate(time.Second)}
	newID := func() string { return strconv.FormatInt(now.UnixNano()/1000, 10) }
	switch r.Type {
	case "", "text":
		if r.Text == "" {
			return m, bot.Errorf(bot.EINVALID, "text is empty")
		}
		m.Kind, m.MsgType, m.MsgID, m.Content = bot.KindText, "text", newID(), r.Text
	case "location":
		m.Kind, m.MsgType, m.MsgID = bot.KindLocation, "location", newID()
		m.Lat, m.Lng, m.Label, m.Scale = r.Lat, r.Lng, r.Label, 15
	case "image":
		data, err := base64.StdEncoding.DecodeString(r.Image)
		if err != nil || len(data) == 0 {
			return m, bot.Errorf(bot.EINVALID, "image_base64 is not a base64 image")
		}
		if len(data) > 10<<20 {
			return m, bot.Errorf(bot.ETOOLARGE, "photo over 10 MB")
		}
		ctype := http.DetectContentType(data)
		if !strings.HasPrefix(ctype, "image/") {
			return m, bot.Errorf(bot.EINVALID, "image_base64 is not an image (%s)", ctype)
		}
		m.Kind, m.MsgType, m.MsgID = bot.KindImage, "image", newID()
		m.MediaID = s.Fake.AddMedia(data, ctype, "photo.jpg")
		m.PicURL = "https://wework.qpic.cn/sim/" + m.MediaID
	case "click":
		m.Kind, m.MsgType, m.Event, m.EventKey = bot.KindClick, "event", "click", r.EventKey
	case "enter_agent":
		m.Kind, m.MsgType, m.Event = bot.KindEnter, "event", "enter_agent"
	default:
		return m, bot.Errorf(bot.EINVALID, "type must be text, image, location, click or enter_agent")
	}
	return m, nil
}

// postLogged posts msg and adds it to the log of what the simulator sent.
// The entry is placed after everything the fake WeCom had recorded before
// the callback left, so the page shows it before the bot's answer.
func (s *Sim) postLogged(ctx context.Context, msg bot.Inbound) (SentEntry, int, error) {
	after := s.Fake.Seq()
	status, err := s.Post(ctx, msg)
	if err != nil {
		return SentEntry{}, 0, bot.Errorf(bot.EUNAVAILABLE, "callback failed")
	}
	return s.logSent(after, msg, status), status, nil
}

// Post seals msg as WeCom would and posts it to the callback URL; it
// returns the HTTP status the callback answered.
func (s *Sim) Post(ctx context.Context, msg bot.Inbound) (int, error) {
	nonce := make([]byte, 5)
	_, _ = rand.Read(nonce)
	q, body, err := s.Crypto.Seal(wecom.BuildXML(msg), s.AgentID, s.now(), hex.EncodeToString(nonce))
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.CallbackURL+"?"+q.URLValues().Encode(), bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "text/xml")
	resp, err := s.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// sameOrigin refuses simulator actions that are not JSON from the
// simulator's own page: another site open in the visitor's browser cannot
// post to localhost as a roster member.
func sameOrigin(c *gin.Context) {
	if ct := c.ContentType(); ct != "application/json" {
		writeError(c, bot.Errorf(bot.EINVALID, "send JSON (Content-Type: application/json)"))
		return
	}
	if o := c.GetHeader("Origin"); o != "" && o != "http://"+c.Request.Host && o != "https://"+c.Request.Host {
		writeError(c, bot.Errorf(bot.EUNAUTHORIZED, "simulator actions come from the simulator's page"))
		return
	}
	c.Next()
}
