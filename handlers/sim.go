package handlers

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"time"

	"gridbot/bot"
	"gridbot/bot/wecom"
	"gridbot/bot/roster"
	"gridbot/bot/wecom/wecomfake"

	"github.com/gin-gonic/gin"
)

// Sim is the simulated WeCom of the embedded default: the fake API and a
// "phone" that sends callbacks to /wecom/callback signed and encrypted
// exactly as WeCom does — over HTTP, with no shortcut into the bot.
type Sim struct {
	Fake        *wecomfake.Fake
	Crypto      *wecom.Crypto
	AgentID     string
	CallbackURL string
	HTTP        *http.Client
	Clock       bot.Clock // the time callbacks carry (default: now)
	Roster      *roster.Roster
}

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
	msg, err := s.inbound(req)
	if err != nil {
		writeError(c, err)
		return
	}
	status, err := s.Post(c.Request.Context(), msg)
	if err != nil {
		writeError(c, bot.Errorf(bot.EUNAVAILABLE, "callback failed"))
		return
	}
	c.JSON(http.StatusOK, gin.H{"callback_status": status})
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
		m.Kind, m.MsgType, m.MsgID = bot.KindImage, "image", newID()
		m.MediaID = s.Fake.AddMedia(data, http.DetectContentType(data), "photo.jpg")
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
