package bot

import (
	"encoding/json"
	"time"
	"unicode/utf8"
)

// OutKind is the kind of an outbound job, one WeCom API call.
type OutKind string

// Outbound kinds. Each is one call of the WeCom API, sent by the dispatcher.
const (
	OutMessage    OutKind = "message"     // message/send to a member (text, markdown, template_card)
	OutCardUpdate OutKind = "card_update" // message/update_template_card by response_code
	OutAppChat    OutKind = "appchat"     // appchat/send to an app-created group chat
	OutWebhook    OutKind = "webhook"     // webhook/send through a group robot
	OutMedia      OutKind = "media"       // media/get: download an inbound photo
)

// Outbox states.
const (
	OutPending = "pending" // waiting for its next attempt
	OutSending = "sending" // claimed by a dispatcher under a lease
	OutSent    = "sent"    // WeCom answered errcode 0
	OutDead    = "dead"    // a permanent error or too many attempts: visible, counted
)

// OutboxItem is one row of the outbox: a WeCom call written in the same
// transaction as the change that caused it.
type OutboxItem struct {
	ID        int64
	Key       string  // unique idempotency key; a second Enqueue with the same key is a no-op
	Kind      OutKind //
	Recipient string  // the rate-limit key: "user:ID", "chat:ID", "robot:NAME", or ""
	Payload   []byte  // JSON: Message, CardUpdate, AppChatMessage, WebhookMessage or MediaJob

	State       string
	Attempts    int
	NextAt      time.Time
	LastError   string
	ErrCode     int
	Result      []byte // JSON: SendResult or MediaResult
	CreatedAt   time.Time
	SentAt      time.Time
	LeaseOwner  string
	LeaseExpiry time.Time
}

// Message is the body of message/send, less the agentid the client adds.
type Message struct {
	ToUser       string        `json:"touser"`
	MsgType      string        `json:"msgtype"` // text, markdown, template_card
	Text         *Text         `json:"text,omitempty"`
	Markdown     *Markdown     `json:"markdown,omitempty"`
	TemplateCard *TemplateCard `json:"template_card,omitempty"`
}

// Text is a text body (≤ 2048 bytes).
type Text struct {
	Content string `json:"content"`
}

// Markdown is a markdown body (≤ 2048 bytes for apps, 4096 for robots).
type Markdown struct {
	Content string `json:"content"`
}

// Card types this project sends.
const (
	CardTextNotice = "text_notice"
	CardButton     = "button_interaction"
)

// TemplateCard is a WeCom template card, marshalled as WeCom expects.
type TemplateCard struct {
	CardType              string      `json:"card_type"`
	Source                *CardSource `json:"source,omitempty"`
	MainTitle             *CardTitle  `json:"main_title,omitempty"`
	EmphasisContent       *CardTitle  `json:"emphasis_content,omitempty"`
	QuoteArea             *QuoteArea  `json:"quote_area,omitempty"`
	SubTitleText          string      `json:"sub_title_text,omitempty"`
	HorizontalContentList []KeyValue  `json:"horizontal_content_list,omitempty"`
	JumpList              []Jump      `json:"jump_list,omitempty"`
	CardAction            *CardAction `json:"card_action,omitempty"`
	TaskID                string      `json:"task_id,omitempty"`
	ButtonList            []Button    `json:"button_list,omitempty"`
	ReplaceText           string      `json:"replace_text,omitempty"` // updates only
}

// CardSource is the small line at the top of a card.
type CardSource struct {
	IconURL   string `json:"icon_url,omitempty"`
	Desc      string `json:"desc,omitempty"`
	DescColor int    `json:"desc_color,omitempty"`
}

// CardTitle is a title with a description.
type CardTitle struct {
	Title string `json:"title,omitempty"`
	Desc  string `json:"desc,omitempty"`
}

// QuoteArea is a quoted block on a card.
type QuoteArea struct {
	Type      int    `json:"type,omitempty"`
	URL       string `json:"url,omitempty"`
	Title     string `json:"title,omitempty"`
	QuoteText string `json:"quote_text,omitempty"`
}

// KeyValue is one row of horizontal_content_list.
type KeyValue struct {
	Type    int    `json:"type,omitempty"`
	KeyName string `json:"keyname"`
	Value   string `json:"value,omitempty"`
	URL     string `json:"url,omitempty"`
	MediaID string `json:"media_id,omitempty"`
	UserID  string `json:"userid,omitempty"`
}

// Jump is one entry of jump_list.
type Jump struct {
	Type  int    `json:"type,omitempty"`
	Title string `json:"title"`
	URL   string `json:"url,omitempty"`
}

// CardAction is what tapping the card body does.
type CardAction struct {
	Type int    `json:"type"`
	URL  string `json:"url,omitempty"`
}

// Button is one button of a button_interaction card; Key comes back as EventKey.
type Button struct {
	Type  int    `json:"type,omitempty"`
	Text  string `json:"text"`
	Style int    `json:"style,omitempty"`
	Key   string `json:"key,omitempty"`
	URL   string `json:"url,omitempty"`
}

// CardUpdate is the body of message/update_template_card, less agentid.
// Exactly one of Button and TemplateCard is set.
type CardUpdate struct {
	UserIDs      []string      `json:"userids,omitempty"`
	AtAll        int           `json:"atall,omitempty"`
	ResponseCode string        `json:"response_code"`
	Button       *ReplaceName  `json:"button,omitempty"`
	TemplateCard *TemplateCard `json:"template_card,omitempty"`
}

// ReplaceName greys a card's buttons out with this text.
type ReplaceName struct {
	ReplaceName string `json:"replace_name"`
}

// AppChatMessage is the body of appchat/send.
type AppChatMessage struct {
	ChatID   string    `json:"chatid"`
	MsgType  string    `json:"msgtype"` // text, markdown
	Text     *Text     `json:"text,omitempty"`
	Markdown *Markdown `json:"markdown,omitempty"`
}

// WebhookMessage is sent through a group robot. Robot names a robot of the
// config; its secret key never enters the database.
type WebhookMessage struct {
	Robot    string    `json:"robot"`
	MsgType  string    `json:"msgtype"` // text, markdown
	Text     *Text     `json:"text,omitempty"`
	Markdown *Markdown `json:"markdown,omitempty"`
}

// MediaJob downloads an inbound MediaId before WeCom forgets it (3 days).
type MediaJob struct {
	MediaID string `json:"media_id"`
	Owner   string `json:"owner,omitempty"` // what the file belongs to, e.g. "inbox:42"
}

// SendResult is what WeCom answered to a send.
type SendResult struct {
	MsgID        string `json:"msgid,omitempty"`
	ResponseCode string `json:"response_code,omitempty"`
	InvalidUser  string `json:"invaliduser,omitempty"`
}

// MediaResult describes a downloaded file.
type MediaResult struct {
	MediaID     string `json:"media_id"`
	File        string `json:"file"` // random name inside the media folder
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
}

// MaxText is the most bytes WeCom shows of a text message.
const MaxText = 2048

// NewTextMessage is a text message to one member, cut to MaxText bytes.
func NewTextMessage(key, userID, content string) OutboxItem {
	return newItem(key, OutMessage, "user:"+userID, Message{ToUser: userID, MsgType: "text", Text: &Text{Content: FitBytes(content, MaxText)}})
}

// FitBytes cuts s to at most n bytes on a character boundary, ending in
// "…" when it had to cut.
func FitBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// NewMarkdownMessage is a markdown message to one member.
func NewMarkdownMessage(key, userID, content string) OutboxItem {
	return newItem(key, OutMessage, "user:"+userID, Message{ToUser: userID, MsgType: "markdown", Markdown: &Markdown{Content: content}})
}

// NewCardMessage is a template card to one member.
func NewCardMessage(key, userID string, card TemplateCard) OutboxItem {
	return newItem(key, OutMessage, "user:"+userID, Message{ToUser: userID, MsgType: "template_card", TemplateCard: &card})
}

// NewCardUpdate updates the card a click came from, with its response code.
// It is not rate-limited per member: it answers one human tap and sends no
// new message.
func NewCardUpdate(key string, u CardUpdate) OutboxItem {
	return newItem(key, OutCardUpdate, "", u)
}

// NewAppChatMarkdown is a markdown message to an app-created group chat.
func NewAppChatMarkdown(key, chatID, content string) OutboxItem {
	return newItem(key, OutAppChat, "chat:"+chatID, AppChatMessage{ChatID: chatID, MsgType: "markdown", Markdown: &Markdown{Content: content}})
}

// NewWebhookMarkdown is a markdown message through a named group robot.
func NewWebhookMarkdown(key, robot, content string) OutboxItem {
	return newItem(key, OutWebhook, "robot:"+robot, WebhookMessage{Robot: robot, MsgType: "markdown", Markdown: &Markdown{Content: content}})
}

// NewMediaJob downloads an inbound media file.
func NewMediaJob(key, mediaID, owner string) OutboxItem {
	return newItem(key, OutMedia, "", MediaJob{MediaID: mediaID, Owner: owner})
}

func newItem(key string, kind OutKind, recipient string, payload any) OutboxItem {
	b, err := json.Marshal(payload)
	if err != nil {
		// Every payload is a plain struct of strings and ints: this cannot fail.
		panic("bot: marshal outbound payload: " + err.Error())
	}
	return OutboxItem{Key: key, Kind: kind, Recipient: recipient, Payload: b}
}
