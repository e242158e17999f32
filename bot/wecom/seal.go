package wecom

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/xml"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"gridbot/bot"
)

// Seal encrypts plaintext XML and returns the POST query values and body
// WeCom would send: the envelope carries the CorpID, the ciphertext and
// agentID (omitted when empty), and q signs the ciphertext with timestamp
// and nonce. An empty nonce gets a fresh random one. Every call uses a fresh
// random prefix, so sealing the same plaintext twice gives two different
// ciphertexts, as WeCom's retries do.
func (c *Crypto) Seal(plain []byte, agentID string, timestamp time.Time, nonce string) (q Query, body []byte, err error) {
	if nonce == "" {
		if nonce, err = randomNonce(); err != nil {
			return Query{}, nil, err
		}
	}
	enc, err := c.Encrypt(nil, plain)
	if err != nil {
		return Query{}, nil, err
	}
	ts := strconv.FormatInt(timestamp.Unix(), 10)
	q = Query{Signature: c.Signature(ts, nonce, enc), Timestamp: ts, Nonce: nonce}

	var b bytes.Buffer
	b.WriteString("<xml><ToUserName>")
	writeCDATA(&b, c.corpID)
	b.WriteString("</ToUserName><Encrypt>")
	writeCDATA(&b, enc)
	b.WriteString("</Encrypt>")
	if agentID != "" {
		b.WriteString("<AgentID>")
		writeCDATA(&b, agentID)
		b.WriteString("</AgentID>")
	}
	b.WriteString("</xml>")
	return q, b.Bytes(), nil
}

// URLValues renders q as msg_signature/timestamp/nonce query values.
func (q Query) URLValues() url.Values {
	return url.Values{
		"msg_signature": {q.Signature},
		"timestamp":     {q.Timestamp},
		"nonce":         {q.Nonce},
	}
}

// EchoQuery builds a GET verification query (msg_signature, timestamp,
// nonce, echostr) for a plaintext echo, as WeCom sends when the callback URL
// is saved. An empty nonce gets a fresh random one.
func (c *Crypto) EchoQuery(echo string, timestamp time.Time, nonce string) (url.Values, error) {
	if nonce == "" {
		var err error
		if nonce, err = randomNonce(); err != nil {
			return nil, err
		}
	}
	enc, err := c.Encrypt(nil, []byte(echo))
	if err != nil {
		return nil, err
	}
	ts := strconv.FormatInt(timestamp.Unix(), 10)
	v := Query{Signature: c.Signature(ts, nonce, enc), Timestamp: ts, Nonce: nonce}.URLValues()
	v.Set("echostr", enc)
	return v, nil
}

// randomNonce returns a decimal nonce like the ones WeCom sends.
func randomNonce() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return strconv.FormatUint(binary.BigEndian.Uint64(b[:])%1e10, 10), nil
}

// BuildXML renders m as the decrypted XML WeCom would send for it: the
// common header, then the fields of m's kind in WeCom's order, strings as
// CDATA and CreateTime, MsgId, AgentID and coordinates as plain numbers,
// elements separated by newlines as in the official sample.
//
// MsgType and Event default from m.Kind when empty, so a simulator may set
// only Kind and the kind's fields. Parse(BuildXML(m)) returns m's fields for
// any m that Parse itself could have produced.
func BuildXML(m bot.Inbound) []byte {
	msgType, event := m.MsgType, m.Event
	if msgType == "" {
		switch {
		case m.Kind.IsEvent():
			msgType = "event"
		case m.Kind != "" && m.Kind != bot.KindUnknown:
			msgType = string(m.Kind)
		}
	}
	if event == "" && m.Kind.IsEvent() {
		event = string(m.Kind)
	}

	w := xmlWriter{}
	w.b.WriteString("<xml>")
	w.str("ToUserName", m.CorpID)
	w.str("FromUserName", m.UserID)
	w.num("CreateTime", strconv.FormatInt(m.CreateTime.Unix(), 10))
	w.str("MsgType", msgType)

	if msgType == "event" {
		w.str("Event", event)
		switch event {
		case string(bot.KindEnter), string(bot.KindClick):
			w.str("EventKey", m.EventKey)
		case string(bot.KindLocEvent):
			if m.EventKey != "" { // WeCom sends none; kept for the round trip
				w.str("EventKey", m.EventKey)
			}
			w.num("Latitude", fmtFloat(m.Lat))
			w.num("Longitude", fmtFloat(m.Lng))
			w.num("Precision", fmtFloat(m.Precision))
		case string(bot.KindCardClick):
			w.str("EventKey", m.EventKey)
			w.str("TaskId", m.TaskID)
			w.str("CardType", m.CardType)
			w.str("ResponseCode", m.ResponseCode)
		default:
			if m.EventKey != "" {
				w.str("EventKey", m.EventKey)
			}
		}
		w.optNum("MsgId", m.MsgID)
		w.optNum("AgentID", m.AgentID)
		if event == string(bot.KindCardClick) && len(m.SelectedItems) > 0 {
			w.b.WriteString("<SelectedItems>")
			for _, it := range m.SelectedItems {
				w.b.WriteString("<SelectedItem>")
				w.str("QuestionKey", it.QuestionKey)
				w.b.WriteString("<OptionIds>")
				for _, id := range it.OptionIDs {
					w.str("OptionId", id)
				}
				w.b.WriteString("</OptionIds></SelectedItem>")
			}
			w.b.WriteString("</SelectedItems>\n")
		}
		w.b.WriteString("</xml>")
		return w.b.Bytes()
	}

	switch msgType {
	case "text":
		w.str("Content", m.Content)
	case "image":
		w.str("PicUrl", m.PicURL)
		w.str("MediaId", m.MediaID)
	case "voice":
		w.str("MediaId", m.MediaID)
		w.str("Format", m.Format)
	case "video":
		w.str("MediaId", m.MediaID)
		w.str("ThumbMediaId", m.ThumbMediaID)
	case "location":
		w.num("Location_X", fmtFloat(m.Lat))
		w.num("Location_Y", fmtFloat(m.Lng))
		w.num("Scale", strconv.Itoa(m.Scale))
		w.str("Label", m.Label)
	case "link":
		w.str("Title", m.Title)
		w.str("Description", m.Description)
		w.str("Url", m.URL)
		w.str("PicUrl", m.PicURL)
	}
	w.optNum("MsgId", m.MsgID)
	w.optNum("AgentID", m.AgentID)
	w.b.WriteString("</xml>")
	return w.b.Bytes()
}

// xmlWriter appends the one-level elements of a callback document.
type xmlWriter struct {
	b bytes.Buffer
}

// str writes <name><![CDATA[s]]></name> and a newline.
func (w *xmlWriter) str(name, s string) {
	w.b.WriteString("<" + name + ">")
	writeCDATA(&w.b, s)
	w.b.WriteString("</" + name + ">\n")
}

// num writes <name>s</name> and a newline, s escaped as text (it is a
// number in anything WeCom sends, but the writer never emits broken XML).
func (w *xmlWriter) num(name, s string) {
	w.b.WriteString("<" + name + ">")
	_ = xml.EscapeText(&w.b, []byte(s)) // a bytes.Buffer never fails
	w.b.WriteString("</" + name + ">\n")
}

// optNum is num for a field WeCom omits when it has no value.
func (w *xmlWriter) optNum(name, s string) {
	if s != "" {
		w.num(name, s)
	}
}

// writeCDATA writes s as CDATA the way WeCom does. The two things CDATA
// cannot carry verbatim are split out: "]]>" is closed and reopened around,
// and a carriage return (which an XML parser would normalise to a newline)
// is written as a character reference between CDATA sections.
func writeCDATA(b *bytes.Buffer, s string) {
	b.WriteString("<![CDATA[")
	for s != "" {
		i := strings.IndexAny(s, "]\r")
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		s = s[i:]
		switch {
		case s[0] == '\r':
			b.WriteString("]]>&#xD;<![CDATA[")
			s = s[1:]
		case strings.HasPrefix(s, "]]>"):
			b.WriteString("]]]]><![CDATA[>")
			s = s[3:]
		default:
			b.WriteByte(']')
			s = s[1:]
		}
	}
	b.WriteString("]]>")
}

// fmtFloat formats f so that strconv.ParseFloat returns it exactly.
func fmtFloat(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "0"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
