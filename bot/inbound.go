package bot

import "time"

// Kind is the kind of an inbound callback, a message type or an event name.
type Kind string

// Inbound kinds. Anything WeCom sends that is not listed is KindUnknown:
// logged, counted and acknowledged, never a crash.
const (
	KindText      Kind = "text"
	KindImage     Kind = "image"
	KindVoice     Kind = "voice"
	KindVideo     Kind = "video"
	KindLocation  Kind = "location"
	KindLink      Kind = "link"
	KindEnter     Kind = "enter_agent"         // event: the member opened the app
	KindClick     Kind = "click"               // event: an app-menu click (EventKey)
	KindLocEvent  Kind = "LOCATION"            // event: periodic location report
	KindCardClick Kind = "template_card_event" // event: a template-card button
	KindUnknown   Kind = "unknown"
)

// IsEvent reports whether k is an event (events have no MsgId).
func (k Kind) IsEvent() bool {
	switch k {
	case KindEnter, KindClick, KindLocEvent, KindCardClick:
		return true
	}
	return false
}

// Inbound is one decrypted, parsed callback from WeCom. Only the fields of
// its Kind are set. It carries no SDK type.
type Inbound struct {
	Kind       Kind      `json:"kind"`
	MsgType    string    `json:"msg_type"`        // as sent: text, image, event, …
	Event      string    `json:"event,omitempty"` // as sent, for events (also unknown ones)
	MsgID      string    `json:"msg_id,omitempty"`
	CorpID     string    `json:"corp_id"` // ToUserName
	UserID     string    `json:"user_id"` // FromUserName
	AgentID    string    `json:"agent_id"`
	CreateTime time.Time `json:"create_time"`

	Content string `json:"content,omitempty"` // text

	PicURL       string `json:"pic_url,omitempty"`        // image
	MediaID      string `json:"media_id,omitempty"`       // image, voice, video
	Format       string `json:"format,omitempty"`         // voice
	ThumbMediaID string `json:"thumb_media_id,omitempty"` // video

	// location message (Location_X = latitude, Location_Y = longitude) and
	// the LOCATION event (Latitude, Longitude, Precision).
	Lat       float64 `json:"lat,omitempty"`
	Lng       float64 `json:"lng,omitempty"`
	Scale     int     `json:"scale,omitempty"`
	Label     string  `json:"label,omitempty"`
	Precision float64 `json:"precision,omitempty"`

	Title       string `json:"title,omitempty"` // link
	Description string `json:"description,omitempty"`
	URL         string `json:"url,omitempty"`

	EventKey      string         `json:"event_key,omitempty"` // click, template_card_event
	TaskID        string         `json:"task_id,omitempty"`   // template_card_event
	CardType      string         `json:"card_type,omitempty"`
	ResponseCode  string         `json:"response_code,omitempty"`
	SelectedItems []SelectedItem `json:"selected_items,omitempty"`
}

// SelectedItem is one answered question of a card with selections.
type SelectedItem struct {
	QuestionKey string   `json:"question_key"`
	OptionIDs   []string `json:"option_ids"`
}
