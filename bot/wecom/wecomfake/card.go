package wecomfake

import (
	"encoding/json"
	"strings"
)

// Card types.
const (
	cardTextNotice  = "text_notice"
	cardNewsNotice  = "news_notice"
	cardButton      = "button_interaction"
	cardVote        = "vote_interaction"
	cardMultiple    = "multiple_interaction"
	maxKeyBytes     = 1024 // button, menu and question keys
	maxTaskIDBytes  = 128
	maxOptionIDByte = 128
)

// cardMode says where a template card is used; the rules differ a little.
type cardMode int

const (
	cardForSend    cardMode = iota // message/send: task_id new, required for interactive cards
	cardForUpdate                  // update_template_card: task_id comes from the response_code
	cardForWebhook                 // webhook/send: notice cards only, no task_id
)

// interactive reports whether a card type has clickable buttons and a task.
func interactive(cardType string) bool {
	return cardType == cardButton || cardType == cardVote || cardType == cardMultiple
}

// tmplCard holds the template_card fields the fake validates.
type tmplCard struct {
	CardType     string `json:"card_type"`
	TaskID       string `json:"task_id"`
	MainTitle    *title `json:"main_title"`
	SubTitleText string `json:"sub_title_text"`
	CardAction   *link  `json:"card_action"`
	QuoteArea    *link  `json:"quote_area"`
	ActionMenu   *struct {
		Desc       string `json:"desc"`
		ActionList []struct {
			Text string `json:"text"`
			Key  string `json:"key"`
		} `json:"action_list"`
	} `json:"action_menu"`
	HorizontalContentList []struct {
		Type    int    `json:"type"`
		KeyName string `json:"keyname"`
		URL     string `json:"url"`
		MediaID string `json:"media_id"`
		UserID  string `json:"userid"`
	} `json:"horizontal_content_list"`
	JumpList []struct {
		link
		Title string `json:"title"`
	} `json:"jump_list"`
	CardImage *struct {
		URL string `json:"url"`
	} `json:"card_image"`
	ImageTextArea *struct {
		ImageURL string `json:"image_url"`
	} `json:"image_text_area"`
	VerticalContentList []title `json:"vertical_content_list"`
	ButtonList          []struct {
		Type int    `json:"type"`
		Text string `json:"text"`
		Key  string `json:"key"`
		URL  string `json:"url"`
	} `json:"button_list"`
	ButtonSelection *question  `json:"button_selection"`
	Checkbox        *question  `json:"checkbox"`
	SelectList      []question `json:"select_list"`
	SubmitButton    *struct {
		Text string `json:"text"`
		Key  string `json:"key"`
	} `json:"submit_button"`
}

type title struct {
	Title string `json:"title"`
	Desc  string `json:"desc"`
}

// link is a card_action, quote_area or jump target: 1 url, 2 miniprogram.
type link struct {
	Type  int    `json:"type"`
	URL   string `json:"url"`
	AppID string `json:"appid"`
}

// question is a button_selection, checkbox or select_list entry.
type question struct {
	QuestionKey string `json:"question_key"`
	OptionList  []struct {
		ID   string `json:"id"`
		Text string `json:"text"`
	} `json:"option_list"`
}

// parseCard decodes and validates a template_card for mode. The task_id's
// uniqueness is checked by the caller.
func parseCard(raw json.RawMessage, mode cardMode) (*tmplCard, *apiError) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, fail(codeBadParam, "invalid parameter: template_card missing")
	}
	var c tmplCard
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fail(codeBadParam, "invalid parameter: template_card: %v", err)
	}
	switch c.CardType {
	case cardTextNotice, cardNewsNotice:
	case cardButton, cardVote, cardMultiple:
		if mode == cardForWebhook {
			return nil, fail(codeCardType, "invalid card_type: a robot sends only text_notice and news_notice")
		}
	default:
		return nil, fail(codeCardType, "invalid card_type %q", c.CardType)
	}
	if err := c.checkTaskID(mode); err != nil {
		return nil, err
	}
	if err := c.checkCommon(); err != nil {
		return nil, err
	}
	switch c.CardType {
	case cardTextNotice:
		return &c, c.checkTextNotice()
	case cardNewsNotice:
		return &c, c.checkNewsNotice()
	case cardButton:
		return &c, c.checkButton()
	case cardVote:
		return &c, c.checkVote()
	default:
		return &c, c.checkMultiple()
	}
}

// checkTaskID: [0-9a-zA-Z_\-@], ≤128 bytes; required for interactive cards
// and with an action_menu.
func (c *tmplCard) checkTaskID(mode cardMode) *apiError {
	if c.TaskID == "" {
		if mode == cardForSend && (interactive(c.CardType) || c.ActionMenu != nil) {
			return fail(codeBadTaskID, "taskid has existed or empty or exceed max len: task_id required")
		}
		return nil
	}
	if len(c.TaskID) > maxTaskIDBytes || !validTaskID(c.TaskID) {
		return fail(codeBadTaskID, "taskid has existed or empty or exceed max len: invalid task_id %q", c.TaskID)
	}
	return nil
}

func validTaskID(s string) bool {
	for _, r := range s {
		ok := r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_' || r == '-' || r == '@'
		if !ok {
			return false
		}
	}
	return true
}

// checkCommon validates the blocks every card type may carry.
func (c *tmplCard) checkCommon() *apiError {
	if m := c.ActionMenu; m != nil {
		if len(m.ActionList) < 1 || len(m.ActionList) > 3 {
			return fail(codeBadParam, "invalid parameter: action_menu.action_list needs 1 to 3 items")
		}
		keys := map[string]bool{}
		for _, a := range m.ActionList {
			if a.Text == "" || a.Key == "" || len(a.Key) > maxKeyBytes {
				return fail(codeBadParam, "invalid parameter: action_menu.action_list text and key (≤1024 bytes) required")
			}
			if keys[a.Key] {
				return fail(codeCardMenuKey, "action_menu.action_list.key conflict: %q", a.Key)
			}
			keys[a.Key] = true
		}
	}
	if q := c.QuoteArea; q != nil {
		if err := checkLink(*q, "quote_area", true); err != nil {
			return err
		}
	}
	if len(c.HorizontalContentList) > 6 {
		return fail(codeCardHorizontalLen, "invalid horizontal_content_list size: at most 6")
	}
	for _, h := range c.HorizontalContentList {
		switch {
		case h.KeyName == "":
			return fail(codeCardKeyName, "horizontal_content_list.keyname missing")
		case h.Type == 1 && h.URL == "":
			return fail(codeCardURL, "horizontal_content_list.url missing")
		case h.Type == 2 && h.MediaID == "":
			return fail(codeCardMediaID, "horizontal_content_list.media_id missing")
		case h.Type == 3 && h.UserID == "":
			return fail(codeCardUserID, "horizontal_content_list.userid missing")
		case h.Type < 0 || h.Type > 3:
			return fail(codeBadParam, "invalid parameter: horizontal_content_list.type %d", h.Type)
		}
	}
	if len(c.JumpList) > 3 {
		return fail(codeCardJumpLen, "invalid jump_list size: at most 3")
	}
	for _, j := range c.JumpList {
		if j.Title == "" {
			return fail(codeCardTitle, "jump_list.title missing")
		}
		if err := checkLink(j.link, "jump_list", true); err != nil {
			return err
		}
	}
	if c.CardAction != nil {
		if err := checkLink(*c.CardAction, "card_action", true); err != nil {
			return err
		}
	}
	return nil
}

// checkLink validates a url/miniprogram target; type 0 (none) is allowed
// where zeroOK.
func checkLink(l link, where string, zeroOK bool) *apiError {
	switch l.Type {
	case 0:
		if !zeroOK {
			return fail(codeCardAction, "%s.type must be 1 (url) or 2 (miniprogram)", where)
		}
	case 1:
		if l.URL == "" {
			return fail(codeCardURL, "%s.url missing", where)
		}
	case 2:
		if l.AppID == "" {
			return fail(codeCardAppID, "%s.appid missing", where)
		}
	default:
		return fail(codeCardAction, "invalid %s.type %d", where, l.Type)
	}
	return nil
}

func (c *tmplCard) checkTextNotice() *apiError {
	if c.CardAction == nil {
		return fail(codeCardAction, "card_action missing: text_notice requires card_action")
	}
	if err := checkLink(*c.CardAction, "card_action", false); err != nil {
		return err
	}
	if (c.MainTitle == nil || c.MainTitle.Title == "") && c.SubTitleText == "" {
		return fail(codeCardTitle, "title missing: text_notice requires main_title.title or sub_title_text")
	}
	return nil
}

func (c *tmplCard) checkNewsNotice() *apiError {
	if c.MainTitle == nil || c.MainTitle.Title == "" {
		return fail(codeCardTitle, "main_title.title missing")
	}
	if c.CardAction == nil {
		return fail(codeCardAction, "card_action missing: news_notice requires card_action")
	}
	if err := checkLink(*c.CardAction, "card_action", false); err != nil {
		return err
	}
	hasImage := c.CardImage != nil && c.CardImage.URL != ""
	hasArea := c.ImageTextArea != nil && c.ImageTextArea.ImageURL != ""
	if !hasImage && !hasArea {
		return fail(codeCardImageURL, "card_image.url or image_text_area.image_url missing")
	}
	if len(c.VerticalContentList) > 4 {
		return fail(codeCardVerticalLen, "invalid vertical_content_list size: at most 4")
	}
	for _, v := range c.VerticalContentList {
		if v.Title == "" {
			return fail(codeCardTitle, "vertical_content_list.title missing")
		}
	}
	return nil
}

func (c *tmplCard) checkButton() *apiError {
	if c.MainTitle == nil || c.MainTitle.Title == "" {
		return fail(codeCardTitle, "main_title.title missing")
	}
	if len(c.ButtonList) < 1 || len(c.ButtonList) > 6 {
		return fail(codeBadParam, "invalid parameter: button_list needs 1 to 6 buttons, got %d", len(c.ButtonList))
	}
	keys := map[string]bool{}
	for _, b := range c.ButtonList {
		if b.Text == "" {
			return fail(codeCardButtonText, "button_list.text missing")
		}
		switch b.Type {
		case 0:
			if b.Key == "" || len(b.Key) > maxKeyBytes {
				return fail(codeCardButtonKey, "button_list.key missing or longer than 1024 bytes")
			}
			if keys[b.Key] {
				return fail(codeCardButtonKey, "button_list.key %q is not unique", b.Key)
			}
			keys[b.Key] = true
		case 1:
			if b.URL == "" {
				return fail(codeCardURL, "button_list.url missing")
			}
		default:
			return fail(codeBadParam, "invalid parameter: button_list.type %d", b.Type)
		}
	}
	if c.ButtonSelection != nil {
		if err := checkQuestion(*c.ButtonSelection, 10); err != nil {
			return err
		}
	}
	return nil
}

func (c *tmplCard) checkVote() *apiError {
	if c.MainTitle == nil || c.MainTitle.Title == "" {
		return fail(codeCardTitle, "main_title.title missing")
	}
	if c.Checkbox == nil {
		return fail(codeCardQuestionKey, "checkbox missing")
	}
	if err := checkQuestion(*c.Checkbox, 20); err != nil {
		return err
	}
	return c.checkSubmit()
}

func (c *tmplCard) checkMultiple() *apiError {
	if c.MainTitle == nil || c.MainTitle.Title == "" {
		return fail(codeCardTitle, "main_title.title missing")
	}
	if len(c.SelectList) < 1 || len(c.SelectList) > 3 {
		return fail(codeCardSelectLen, "invalid select_list size: 1 to 3")
	}
	keys := map[string]bool{}
	for _, q := range c.SelectList {
		if err := checkQuestion(q, 10); err != nil {
			return err
		}
		if keys[q.QuestionKey] {
			return fail(codeCardQuestionKey, "select_list.question_key %q is not unique", q.QuestionKey)
		}
		keys[q.QuestionKey] = true
	}
	return c.checkSubmit()
}

func (c *tmplCard) checkSubmit() *apiError {
	if c.SubmitButton == nil || c.SubmitButton.Text == "" {
		return fail(codeCardSubmitText, "submit_button.text missing")
	}
	if c.SubmitButton.Key == "" || len(c.SubmitButton.Key) > maxKeyBytes {
		return fail(codeCardSubmitKey, "submit_button.key missing or longer than 1024 bytes")
	}
	return nil
}

// checkQuestion validates a question: key ≤1024 bytes, 1..maxOptions
// options with unique ids ≤128 bytes and texts.
func checkQuestion(q question, maxOptions int) *apiError {
	if q.QuestionKey == "" || len(q.QuestionKey) > maxKeyBytes {
		return fail(codeCardQuestionKey, "question_key missing or longer than 1024 bytes")
	}
	if len(q.OptionList) < 1 || len(q.OptionList) > maxOptions {
		return fail(codeCardOptionLen, "invalid option_list size: 1 to %d", maxOptions)
	}
	ids := map[string]bool{}
	for _, o := range q.OptionList {
		if o.ID == "" || len(o.ID) > maxOptionIDByte || ids[o.ID] {
			return fail(codeCardOptionID, "option_list.id missing, longer than 128 bytes or not unique")
		}
		ids[o.ID] = true
		if o.Text == "" {
			return fail(codeCardOptionText, "option_list.text missing")
		}
	}
	return nil
}

// card is the state of a sent template card.
type card struct {
	cardType   string
	menu       bool            // had an action_menu
	recipients map[string]bool // touser members it was delivered to ("@all" possible)
	state      json.RawMessage // the current card JSON
}

// Card returns the current state of the card with taskID: the template_card
// JSON as sent, or as last replaced by update_template_card. A button update
// (replace_name) shows as the card with "replace_text" set to that name.
func (f *Fake) Card(taskID string) (json.RawMessage, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.cards[taskID]
	if !ok {
		return nil, false
	}
	return append(json.RawMessage(nil), c.state...), true
}

// withReplaceText returns card JSON with "replace_text" set to name.
func withReplaceText(state json.RawMessage, name string) json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(state, &m) != nil || m == nil {
		m = map[string]json.RawMessage{}
	}
	m["replace_text"], _ = json.Marshal(name)
	b, _ := json.Marshal(m)
	return b
}

// splitIDs splits an "a|b|c" list, dropping empty entries.
func splitIDs(s string) []string {
	var out []string
	for _, p := range strings.Split(s, "|") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
