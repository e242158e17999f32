package wecom

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"math"
	"strconv"
	"strings"
	"time"

	"gridbot/bot"
)

// Query holds the signed values of a callback URL.
type Query struct {
	Signature string // msg_signature
	Timestamp string
	Nonce     string
}

// envelope is the outer XML of a POST callback.
type envelope struct {
	XMLName    xml.Name `xml:"xml"`
	ToUserName string   `xml:"ToUserName"`
	Encrypt    string   `xml:"Encrypt"`
	AgentID    string   `xml:"AgentID"`
}

// Receiver opens POST callbacks of one app: it checks the signature (in
// constant time), the timestamp window, the CorpID and AgentID, decrypts and
// parses. Every failure is a *bot.Error: EUNAUTHORIZED or EINVALID.
type Receiver struct {
	Crypto  *Crypto
	AgentID string
	Window  time.Duration // 0 turns the timestamp check off
	Now     func() time.Time
}

// Callback is an opened callback: the plaintext, its parsed form and the key
// that makes a retried delivery a no-op.
type Callback struct {
	Plain     []byte
	Msg       bot.Inbound
	DedupeKey string
}

// Open verifies and decrypts one POST body.
func (r *Receiver) Open(q Query, body []byte) (Callback, error) {
	var env envelope
	if err := xml.Unmarshal(body, &env); err != nil {
		return Callback{}, bot.Errorf(bot.EINVALID, "body is not callback XML")
	}
	if env.Encrypt == "" {
		return Callback{}, bot.Errorf(bot.EINVALID, "body has no Encrypt element")
	}
	if err := r.Crypto.CheckSignature(q.Signature, q.Timestamp, q.Nonce, env.Encrypt); err != nil {
		return Callback{}, err
	}
	if err := r.checkTime(q.Timestamp); err != nil {
		return Callback{}, err
	}
	if env.ToUserName != "" && strings.TrimSpace(env.ToUserName) != r.Crypto.CorpID() {
		return Callback{}, bot.Errorf(bot.EUNAUTHORIZED, "callback is for another corp")
	}
	if a := strings.TrimSpace(env.AgentID); a != "" && r.AgentID != "" && a != r.AgentID {
		return Callback{}, bot.Errorf(bot.EUNAUTHORIZED, "callback is for another agent")
	}
	plain, err := r.Crypto.Decrypt(env.Encrypt)
	if err != nil {
		return Callback{}, err
	}
	msg, err := Parse(plain)
	if err != nil {
		return Callback{}, err
	}
	if msg.CorpID != "" && msg.CorpID != r.Crypto.CorpID() {
		return Callback{}, bot.Errorf(bot.EUNAUTHORIZED, "message is for another corp")
	}
	if msg.AgentID != "" && r.AgentID != "" && msg.AgentID != r.AgentID {
		return Callback{}, bot.Errorf(bot.EUNAUTHORIZED, "message is for another agent")
	}
	// The envelope is not signed, only its Encrypt is: when both name an
	// agent they must agree even if this Receiver accepts any agent.
	if a := strings.TrimSpace(env.AgentID); a != "" && msg.AgentID != "" && a != msg.AgentID {
		return Callback{}, bot.Errorf(bot.EUNAUTHORIZED, "envelope and message name different agents")
	}
	return Callback{Plain: plain, Msg: msg, DedupeKey: DedupeKey(msg, plain)}, nil
}

func (r *Receiver) checkTime(ts string) error {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return bot.Errorf(bot.EINVALID, "timestamp is not a number")
	}
	if r.Window <= 0 {
		return nil
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	d := now().Sub(time.Unix(sec, 0))
	if d < 0 {
		d = -d
	}
	if d > r.Window {
		return bot.Errorf(bot.EUNAUTHORIZED, "timestamp outside the %s window", r.Window)
	}
	return nil
}

// DedupeKey is "msg:<MsgId>" for messages and "evt:<sha256 of the
// plaintext>" for events (known or not, and for a message without a MsgId):
// a retried event carries a new ciphertext but the same plaintext, while
// distinct events with one FromUserName and CreateTime differ in it.
func DedupeKey(m bot.Inbound, plain []byte) string {
	if m.MsgID != "" && m.MsgType != "event" && !m.Kind.IsEvent() {
		return "msg:" + m.MsgID
	}
	sum := sha256.Sum256(bytes.TrimSpace(plain))
	return "evt:" + hex.EncodeToString(sum[:])
}

// rawMessage is the decrypted XML, every field of every kind, flat.
type rawMessage struct {
	XMLName      xml.Name `xml:"xml"`
	ToUserName   string   `xml:"ToUserName"`
	FromUserName string   `xml:"FromUserName"`
	CreateTime   string   `xml:"CreateTime"`
	MsgType      string   `xml:"MsgType"`
	MsgID        string   `xml:"MsgId"`
	AgentID      string   `xml:"AgentID"`
	Content      string   `xml:"Content"`
	PicURL       string   `xml:"PicUrl"`
	MediaID      string   `xml:"MediaId"`
	Format       string   `xml:"Format"`
	ThumbMediaID string   `xml:"ThumbMediaId"`
	LocationX    string   `xml:"Location_X"`
	LocationY    string   `xml:"Location_Y"`
	Scale        string   `xml:"Scale"`
	Label        string   `xml:"Label"`
	Title        string   `xml:"Title"`
	Description  string   `xml:"Description"`
	URL          string   `xml:"Url"`
	Event        string   `xml:"Event"`
	EventKey     string   `xml:"EventKey"`
	Latitude     string   `xml:"Latitude"`
	Longitude    string   `xml:"Longitude"`
	Precision    string   `xml:"Precision"`
	TaskID       string   `xml:"TaskId"`
	CardType     string   `xml:"CardType"`
	ResponseCode string   `xml:"ResponseCode"`
	Selected     []struct {
		QuestionKey string   `xml:"QuestionKey"`
		OptionIDs   []string `xml:"OptionIds>OptionId"`
	} `xml:"SelectedItems>SelectedItem"`
}

// Parse turns decrypted callback XML into a typed bot.Inbound. A message or
// event it does not know is KindUnknown, not an error; only XML that is not
// a callback at all is.
func Parse(plain []byte) (bot.Inbound, error) {
	var r rawMessage
	if err := xml.Unmarshal(plain, &r); err != nil {
		return bot.Inbound{}, bot.Errorf(bot.EINVALID, "decrypted message is not XML")
	}
	t := func(s string) string { return strings.TrimSpace(s) }
	if t(r.MsgType) == "" || t(r.FromUserName) == "" {
		return bot.Inbound{}, bot.Errorf(bot.EINVALID, "decrypted message has no MsgType or FromUserName")
	}
	m := bot.Inbound{
		MsgType: t(r.MsgType),
		MsgID:   t(r.MsgID),
		CorpID:  t(r.ToUserName),
		UserID:  t(r.FromUserName),
		AgentID: t(r.AgentID),
	}
	m.CreateTime = unixTime(r.CreateTime)
	switch m.MsgType {
	case "text":
		m.Kind, m.Content = bot.KindText, r.Content
	case "image":
		m.Kind, m.PicURL, m.MediaID = bot.KindImage, t(r.PicURL), t(r.MediaID)
	case "voice":
		m.Kind, m.MediaID, m.Format = bot.KindVoice, t(r.MediaID), t(r.Format)
	case "video":
		m.Kind, m.MediaID, m.ThumbMediaID = bot.KindVideo, t(r.MediaID), t(r.ThumbMediaID)
	case "location":
		m.Kind = bot.KindLocation
		m.Lat, m.Lng = num(r.LocationX), num(r.LocationY)
		m.Scale = integer(r.Scale)
		m.Label = t(r.Label)
	case "link":
		m.Kind, m.Title, m.Description, m.URL = bot.KindLink, t(r.Title), t(r.Description), t(r.URL)
		m.PicURL = t(r.PicURL)
	case "event":
		m.Event = t(r.Event)
		m.EventKey = t(r.EventKey)
		switch m.Event {
		case "enter_agent":
			m.Kind = bot.KindEnter
		case "click":
			m.Kind = bot.KindClick
		case "LOCATION":
			m.Kind = bot.KindLocEvent
			m.Lat, m.Lng, m.Precision = num(r.Latitude), num(r.Longitude), num(r.Precision)
		case "template_card_event":
			m.Kind = bot.KindCardClick
			m.TaskID, m.CardType, m.ResponseCode = t(r.TaskID), t(r.CardType), t(r.ResponseCode)
			for _, s := range r.Selected {
				item := bot.SelectedItem{QuestionKey: t(s.QuestionKey)}
				for _, id := range s.OptionIDs {
					item.OptionIDs = append(item.OptionIDs, t(id))
				}
				m.SelectedItems = append(m.SelectedItems, item)
			}
		default:
			m.Kind = bot.KindUnknown
		}
	default:
		m.Kind = bot.KindUnknown
	}
	return m, nil
}

// num parses a decimal coordinate or precision; anything that is not a
// finite number (NaN and Inf would break JSON and geometry) is 0.
func num(s string) float64 {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

// integer parses a small integer such as the map Scale; anything else,
// including numbers beyond ±2^31, is 0.
func integer(s string) int {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
	if err != nil {
		return 0
	}
	return int(n)
}

// unixTime parses CreateTime (Unix seconds) as UTC. A value that is not a
// number, or whose year is outside 0..9999 (which time.Time cannot encode
// as JSON, so the inbox could not store it), is the zero time.
func unixTime(s string) time.Time {
	sec, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return time.Time{}
	}
	t := time.Unix(sec, 0).UTC()
	if t.Year() < 0 || t.Year() > 9999 {
		return time.Time{}
	}
	return t
}
