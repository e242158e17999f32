package wecomfake

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Limits of app messages (doc 90236) and robots (doc 91770).
const (
	maxTextBytes       = 2048
	maxAppMarkdown     = 2048
	maxRobotMarkdown   = 4096
	maxUsersPerSend    = 1000
	memberPerMinute    = 30   // app messages to one member, sliding minute
	memberPerHour      = 1000 // app messages to one member, sliding hour
	robotPerMinute     = 20   // webhook messages per robot, sliding minute
	maxRobotImageBytes = 2 << 20
	maxTextCardTitle   = 128
	maxTextCardDesc    = 512
	maxTextCardURL     = 2048
	maxNewsArticles    = 8
	maxUserIDBytes     = 64
)

// sendMsg is the body of message/send, appchat/send and webhook/send.
type sendMsg struct {
	ToUser     string          `json:"touser"`
	ToParty    string          `json:"toparty"`
	ToTag      string          `json:"totag"`
	ChatID     string          `json:"chatid"`
	MsgType    string          `json:"msgtype"`
	AgentID    json.RawMessage `json:"agentid"`
	Text       *content        `json:"text"`
	Markdown   *content        `json:"markdown"`
	MarkdownV2 *content        `json:"markdown_v2"`
	Image      *mediaRef       `json:"image"`
	Voice      *mediaRef       `json:"voice"`
	Video      *mediaRef       `json:"video"`
	File       *mediaRef       `json:"file"`
	TextCard   *struct {
		Title       string `json:"title"`
		Description string `json:"description"`
		URL         string `json:"url"`
	} `json:"textcard"`
	News *struct {
		Articles []struct {
			Title string `json:"title"`
			URL   string `json:"url"`
			AppID string `json:"appid"`
		} `json:"articles"`
	} `json:"news"`
	MPNews *struct {
		Articles []struct {
			Title        string `json:"title"`
			ThumbMediaID string `json:"thumb_media_id"`
			Content      string `json:"content"`
		} `json:"articles"`
	} `json:"mpnews"`
	MiniprogramNotice *struct {
		AppID string `json:"appid"`
		Title string `json:"title"`
	} `json:"miniprogram_notice"`
	TemplateCard json.RawMessage `json:"template_card"`
}

type content struct {
	Content string `json:"content"`
}

// mediaRef is an image/voice/video/file body: a media_id, or for robot
// images base64 and md5.
type mediaRef struct {
	MediaID string `json:"media_id"`
	Base64  string `json:"base64"`
	MD5     string `json:"md5"`
}

// sendReply is the answer of message/send.
type sendReply struct {
	ErrCode        int    `json:"errcode"`
	ErrMsg         string `json:"errmsg"`
	InvalidUser    string `json:"invaliduser"`
	InvalidParty   string `json:"invalidparty"`
	InvalidTag     string `json:"invalidtag"`
	UnlicensedUser string `json:"unlicenseduser"`
	MsgID          string `json:"msgid"`
	ResponseCode   string `json:"response_code,omitempty"`
}

// okReply is the plain success answer.
type okReply struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// peekSend fills a record from a message/send or appchat/send body.
func peekSend(rec *Request, _ *http.Request, body []byte) {
	rec.Body = recordBody(body)
	var m struct {
		ToUser       string `json:"touser"`
		ChatID       string `json:"chatid"`
		MsgType      string `json:"msgtype"`
		TemplateCard struct {
			TaskID string `json:"task_id"`
		} `json:"template_card"`
	}
	_ = json.Unmarshal(body, &m)
	rec.To, rec.MsgType, rec.TaskID = m.ToUser, m.MsgType, m.TemplateCard.TaskID
	if rec.API == "appchat/send" {
		rec.To = m.ChatID
	}
}

// peekWebhook fills a record from a webhook/send call.
func (f *Fake) peekWebhook(rec *Request, r *http.Request, body []byte) {
	rec.Body = recordBody(body)
	key := r.URL.Query().Get("key")
	name, ok := f.robots[key]
	if !ok {
		name = key
	}
	rec.To = "robot:" + name
	var m struct {
		MsgType string `json:"msgtype"`
	}
	_ = json.Unmarshal(body, &m)
	rec.MsgType = m.MsgType
}

// handleSend answers message/send.
func (f *Fake) handleSend(c *call) (reply, *apiError) {
	m, err := decodeSend(c)
	if err != nil {
		return reply{}, err
	}
	if err := f.checkAgent(m.AgentID); err != nil {
		return reply{}, err
	}
	users := splitIDs(m.ToUser)
	if len(users) == 0 && m.ToParty == "" && m.ToTag == "" {
		return reply{}, fail(codeNoRecipients, "all touser & toparty & totag empty")
	}
	if len(users) > maxUsersPerSend {
		return reply{}, fail(codeUserListLen, "invalid userid list size: at most 1000")
	}
	if !appMsgType(m.MsgType) {
		return reply{}, fail(codeBadMsgType, "invalid message type %q", m.MsgType)
	}
	var tc *tmplCard
	if m.MsgType == "template_card" {
		if tc, err = parseCard(m.TemplateCard, cardForSend); err != nil {
			return reply{}, err
		}
		if tc.TaskID != "" && f.cards[tc.TaskID] != nil {
			return reply{}, fail(codeBadTaskID, "taskid has existed or empty or exceed max len: task_id %q already used", tc.TaskID)
		}
	} else if err := f.checkContent(m, maxAppMarkdown); err != nil {
		return reply{}, err
	}

	valid, invalid := f.splitRecipients(users)
	if len(valid) == 0 && m.ToParty == "" && m.ToTag == "" {
		return reply{}, fail(codeAllInvalid, "all touser & toparty & totag invalid: invaliduser %s", strings.Join(invalid, "|"))
	}
	now := f.now()
	out := sendReply{ErrMsg: "ok", InvalidUser: strings.Join(invalid, "|"), MsgID: randomID(32)}
	for _, u := range valid {
		if f.deliver(u, now) {
			c.rec.Recipients = append(c.rec.Recipients, u)
		} else {
			c.rec.DroppedFor = append(c.rec.DroppedFor, u)
		}
	}
	c.rec.Dropped = len(c.rec.DroppedFor) > 0
	if tc != nil && tc.TaskID != "" {
		cd := &card{cardType: tc.CardType, menu: tc.ActionMenu != nil, recipients: map[string]bool{}, state: recordBody(m.TemplateCard)}
		for _, u := range valid {
			cd.recipients[u] = true
		}
		f.cards[tc.TaskID] = cd
		if interactive(tc.CardType) {
			out.ResponseCode = f.mintCode(tc.TaskID, "", now)
		}
	}
	c.rec.MsgID, c.rec.ResponseCode = out.MsgID, out.ResponseCode
	return reply{json: out}, nil
}

// handleAppChat answers appchat/send.
func (f *Fake) handleAppChat(c *call) (reply, *apiError) {
	m, err := decodeSend(c)
	if err != nil {
		return reply{}, err
	}
	if m.ChatID == "" {
		return reply{}, fail(codeBadChatID, "invalid chatid: chatid missing")
	}
	if len(f.knownChats) > 0 && !f.knownChats[m.ChatID] {
		return reply{}, fail(codeChatNotFound, "chatid not found: %s", m.ChatID)
	}
	if m.MsgType == "template_card" {
		return reply{}, fail(codeBadMsgType, "invalid message type: template_card cannot be sent to an appchat")
	}
	if !appChatMsgType(m.MsgType) {
		return reply{}, fail(codeBadMsgType, "invalid message type %q", m.MsgType)
	}
	if err := f.checkContent(m, maxAppMarkdown); err != nil {
		return reply{}, err
	}
	c.rec.Recipients = []string{m.ChatID}
	return reply{json: okReply{ErrMsg: "ok"}}, nil
}

// handleWebhook answers webhook/send: the key is the credential.
func (f *Fake) handleWebhook(c *call) (reply, *apiError) {
	key := c.r.URL.Query().Get("key")
	if _, ok := f.robots[key]; !ok || key == "" {
		return reply{}, fail(codeBadWebhook, "invalid webhook url")
	}
	m, err := decodeSend(c)
	if err != nil {
		return reply{}, err
	}
	now := f.now()
	if countSince(f.robotLog[key], now.Add(-time.Minute)) >= robotPerMinute {
		return reply{}, fail(codeFreqLimit, "api freq out of limit: at most 20 messages a minute per robot")
	}
	switch m.MsgType {
	case "text", "markdown", "markdown_v2", "news", "file", "voice":
		err = f.checkContent(m, maxRobotMarkdown)
	case "image":
		err = checkRobotImage(m.Image)
	case "template_card":
		_, err = parseCard(m.TemplateCard, cardForWebhook)
	default:
		err = fail(codeBadMsgType, "invalid message type %q", m.MsgType)
	}
	if err != nil {
		return reply{}, err
	}
	f.robotLog[key] = append(f.robotLog[key], now)
	c.rec.Recipients = []string{c.rec.To}
	return reply{json: okReply{ErrMsg: "ok"}}, nil
}

// decodeSend decodes a send body.
func decodeSend(c *call) (*sendMsg, *apiError) {
	if c.tooLarge {
		return nil, fail(codeContentTooBig, "content size out of limit: request body too large")
	}
	var m sendMsg
	if err := json.Unmarshal(c.body, &m); err != nil {
		return nil, fail(codeBadParam, "invalid parameter: invalid json: %v", err)
	}
	return &m, nil
}

// checkAgent accepts agentid as a JSON number or a numeric string.
func (f *Fake) checkAgent(raw json.RawMessage) *apiError {
	s := strings.TrimSpace(string(raw))
	if strings.HasPrefix(s, `"`) {
		var str string
		if json.Unmarshal(raw, &str) != nil {
			return fail(codeBadAgentID, "invalid agentid")
		}
		s = strings.TrimSpace(str)
	}
	if s == "" || s == "null" {
		return fail(codeNoAgentID, "agentid missing")
	}
	n, err := strconv.Atoi(s)
	if err != nil || n != f.agentID {
		return fail(codeBadAgentID, "invalid agentid %s", s)
	}
	return nil
}

func appMsgType(t string) bool {
	switch t {
	case "text", "image", "voice", "video", "file", "textcard", "news", "mpnews",
		"markdown", "miniprogram_notice", "template_card":
		return true
	}
	return false
}

func appChatMsgType(t string) bool {
	switch t {
	case "text", "image", "voice", "video", "file", "textcard", "news", "mpnews", "markdown":
		return true
	}
	return false
}

// checkContent validates the body of a non-card message; markdownMax is
// 2048 for apps and 4096 for robots.
func (f *Fake) checkContent(m *sendMsg, markdownMax int) *apiError {
	switch m.MsgType {
	case "text":
		return checkText(m.Text, "text", maxTextBytes)
	case "markdown":
		return checkText(m.Markdown, "markdown", markdownMax)
	case "markdown_v2":
		return checkText(m.MarkdownV2, "markdown_v2", markdownMax)
	case "image":
		return f.checkMediaRef(m.Image, "image", mediaImage)
	case "voice":
		return f.checkMediaRef(m.Voice, "voice", mediaVoice)
	case "video":
		return f.checkMediaRef(m.Video, "video", mediaVideo)
	case "file":
		return f.checkMediaRef(m.File, "file", "")
	case "textcard":
		t := m.TextCard
		switch {
		case t == nil || t.Title == "":
			return fail(codeNoTitle, "title missing")
		case t.Description == "":
			return fail(codeNoDescription, "description missing")
		case t.URL == "":
			return fail(codeNoURL, "url missing")
		case len(t.Title) > maxTextCardTitle || len(t.Description) > maxTextCardDesc || len(t.URL) > maxTextCardURL:
			return fail(codeContentTooBig, "content size out of limit: textcard title ≤128, description ≤512, url ≤2048 bytes")
		}
	case "news":
		if m.News == nil || len(m.News.Articles) < 1 || len(m.News.Articles) > maxNewsArticles {
			return fail(codeNewsCount, "invalid article count: 1 to 8")
		}
		for _, a := range m.News.Articles {
			if a.Title == "" {
				return fail(codeNoTitle, "title missing")
			}
		}
	case "mpnews":
		if m.MPNews == nil || len(m.MPNews.Articles) < 1 || len(m.MPNews.Articles) > maxNewsArticles {
			return fail(codeNewsCount, "invalid article count: 1 to 8")
		}
		for _, a := range m.MPNews.Articles {
			switch {
			case a.Title == "":
				return fail(codeNoTitle, "title missing")
			case a.Content == "":
				return fail(codeEmptyContent, "empty content")
			case a.ThumbMediaID == "":
				return fail(codeNoMediaID, "thumb_media_id missing")
			case !f.mediaUsable(a.ThumbMediaID, mediaImage):
				return fail(codeBadMediaID, "invalid media_id %s", a.ThumbMediaID)
			}
		}
	case "miniprogram_notice":
		if n := m.MiniprogramNotice; n == nil || n.AppID == "" || n.Title == "" {
			return fail(codeBadParam, "invalid parameter: miniprogram_notice appid and title required")
		}
	}
	return nil
}

func checkText(c *content, field string, limit int) *apiError {
	if c == nil || c.Content == "" {
		return fail(codeEmptyContent, "empty content: %s.content", field)
	}
	if len(c.Content) > limit {
		return fail(codeContentTooBig, "content size out of limit: %s.content is %d bytes, at most %d", field, len(c.Content), limit)
	}
	return nil
}

func (f *Fake) checkMediaRef(r *mediaRef, field, kind string) *apiError {
	if r == nil || r.MediaID == "" {
		return fail(codeNoMediaID, "media_id missing: %s.media_id", field)
	}
	if !f.mediaUsable(r.MediaID, kind) {
		return fail(codeBadMediaID, "invalid media_id %s", r.MediaID)
	}
	return nil
}

// checkRobotImage validates a robot image: base64 of a jpg/png ≤2 MB and
// the md5 of the raw bytes.
func checkRobotImage(r *mediaRef) *apiError {
	if r == nil || r.Base64 == "" {
		return fail(codeEmptyMedia, "empty media data: image.base64")
	}
	raw, err := base64.StdEncoding.DecodeString(r.Base64)
	if err != nil {
		return fail(codeBadParam, "invalid parameter: image.base64 is not base64")
	}
	if len(raw) > maxRobotImageBytes {
		return fail(codeMediaTooBig, "media size out of limit: image over 2 MB")
	}
	sum := md5.Sum(raw)
	if !strings.EqualFold(hex.EncodeToString(sum[:]), r.MD5) {
		return fail(codeBadParam, "invalid parameter: image.md5 does not match")
	}
	return nil
}

// splitRecipients sorts touser entries into deliverable and invalid ones.
// "@all" reaches everyone and makes the other entries moot: it stands for
// the KnownUsers when there are some, and stays "@all" otherwise.
func (f *Fake) splitRecipients(users []string) (valid, invalid []string) {
	if slices.Contains(users, "@all") {
		if len(f.knownUsers) == 0 {
			return []string{"@all"}, nil
		}
		for u := range f.knownUsers {
			valid = append(valid, u)
		}
		slices.Sort(valid)
		return valid, nil
	}
	for _, u := range users {
		if !validUserID(u) || len(f.knownUsers) > 0 && !f.knownUsers[u] {
			invalid = append(invalid, u)
			continue
		}
		valid = append(valid, u)
	}
	return valid, invalid
}

// validUserID: 1–64 bytes of letters, digits, '-', '_', '.', '@'.
func validUserID(u string) bool {
	if u == "" || len(u) > maxUserIDBytes {
		return false
	}
	for _, r := range u {
		ok := r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' ||
			r == '-' || r == '_' || r == '.' || r == '@'
		if !ok {
			return false
		}
	}
	return true
}

// deliver counts an accepted app message to member at now and reports
// whether the member sees it: WeCom silently drops more than 30 a minute or
// 1000 an hour. f.mu is held.
func (f *Fake) deliver(member string, now time.Time) bool {
	if member == "@all" {
		return true
	}
	f.sends[member] = append(f.sends[member], now)
	seen := f.seen[member]
	if countSince(seen, now.Add(-time.Minute)) >= memberPerMinute ||
		countSince(seen, now.Add(-time.Hour)) >= memberPerHour {
		return false
	}
	f.seen[member] = append(seen, now)
	return true
}

// countSince counts the times after since.
func countSince(ts []time.Time, since time.Time) int {
	n := 0
	for _, t := range ts {
		if t.After(since) {
			n++
		}
	}
	return n
}
