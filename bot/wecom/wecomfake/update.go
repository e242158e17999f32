package wecomfake

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"time"
)

// responseCodeTTL is how long a response_code can be used (once).
const responseCodeTTL = 72 * time.Hour

// responseCode is an issued response_code: from a send (userID empty) or
// from a simulated click.
type responseCode struct {
	taskID string
	userID string
	issued time.Time
	used   bool
}

// mintCode issues a response_code for taskID. f.mu is held.
func (f *Fake) mintCode(taskID, userID string, now time.Time) string {
	code := randomID(48)
	f.codes[code] = &responseCode{taskID: taskID, userID: userID, issued: now}
	return code
}

// IssueResponseCode mints the response_code of a simulated click by userID
// on the card taskID, as WeCom puts in a template_card_event callback. Like
// every response_code it is valid for 72 hours (by Options.Now) and can be
// used once. When the update names no recipients, it applies to userID.
func (f *Fake) IssueResponseCode(userID, taskID string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mintCode(taskID, userID, f.now())
}

// updateMsg is the body of message/update_template_card.
type updateMsg struct {
	UserIDs      []string          `json:"userids"`
	PartyIDs     []json.RawMessage `json:"partyids"`
	TagIDs       []json.RawMessage `json:"tagids"`
	AtAll        int               `json:"atall"`
	AgentID      json.RawMessage   `json:"agentid"`
	ResponseCode string            `json:"response_code"`
	Button       *struct {
		ReplaceName string `json:"replace_name"`
	} `json:"button"`
	TemplateCard json.RawMessage `json:"template_card"`
}

// updateReply is the answer of update_template_card.
type updateReply struct {
	ErrCode     int      `json:"errcode"`
	ErrMsg      string   `json:"errmsg"`
	InvalidUser []string `json:"invaliduser,omitempty"`
}

// peekUpdate fills a record from an update_template_card body.
func peekUpdate(rec *Request, _ *http.Request, body []byte) {
	rec.Body = recordBody(body)
	var m updateMsg
	_ = json.Unmarshal(body, &m)
	rec.To = strings.Join(m.UserIDs, "|")
	if m.AtAll == 1 {
		rec.To = "@all"
	}
	rec.ResponseCode = m.ResponseCode
	switch {
	case m.Button != nil:
		rec.MsgType = "button"
	case hasJSON(m.TemplateCard):
		rec.MsgType = "template_card"
	}
}

// handleUpdate answers message/update_template_card. The response_code
// names the card (its task_id); the update replaces that card for the
// recipients it names and uses the code up.
func (f *Fake) handleUpdate(c *call) (reply, *apiError) {
	if c.tooLarge {
		return reply{}, fail(codeContentTooBig, "content size out of limit: request body too large")
	}
	var m updateMsg
	if err := json.Unmarshal(c.body, &m); err != nil {
		return reply{}, fail(codeBadParam, "invalid parameter: invalid json: %v", err)
	}
	if err := f.checkAgent(m.AgentID); err != nil {
		return reply{}, err
	}
	if len(m.UserIDs) > maxUsersPerSend || len(m.PartyIDs) > 100 || len(m.TagIDs) > 100 {
		return reply{}, fail(codeBadParam, "invalid parameter: at most 1000 userids, 100 partyids, 100 tagids")
	}
	code, err := f.useableCode(m.ResponseCode)
	if err != nil {
		return reply{}, err
	}
	c.rec.TaskID = code.taskID
	cd := f.cards[code.taskID]
	if cd == nil {
		return reply{}, fail(codeNoTask, "task_id not exist: %s", code.taskID)
	}
	state, err := cd.updated(&m)
	if err != nil {
		return reply{}, err
	}
	targets, invalid, err := cd.targets(&m, code)
	if err != nil {
		return reply{}, err
	}
	code.used = true
	cd.state = state
	c.rec.Recipients = targets
	return reply{json: updateReply{ErrMsg: "ok", InvalidUser: invalid}}, nil
}

// useableCode finds an unused, unexpired response_code. f.mu is held.
func (f *Fake) useableCode(s string) (*responseCode, *apiError) {
	if s == "" {
		return nil, fail(codeBadParam, "invalid parameter: response_code missing")
	}
	code := f.codes[s]
	switch {
	case code == nil:
		return nil, fail(codeBadResponseCode, "invalid response_code")
	case code.used:
		return nil, fail(codeBadResponseCode, "invalid response_code: response_code has been used")
	case f.now().Sub(code.issued) >= responseCodeTTL:
		return nil, fail(codeBadResponseCode, "invalid response_code: response_code expired (72 hours)")
	}
	return code, nil
}

// updated validates the update m of cd and returns the new card state.
func (cd *card) updated(m *updateMsg) (json.RawMessage, *apiError) {
	hasCard := hasJSON(m.TemplateCard)
	if (m.Button != nil) == hasCard {
		return nil, fail(codeBadParam, "invalid parameter: give exactly one of button and template_card")
	}
	if m.Button != nil {
		if m.Button.ReplaceName == "" {
			return nil, fail(codeBadParam, "invalid parameter: button.replace_name missing")
		}
		if !interactive(cd.cardType) {
			return nil, fail(codeBadParam, "invalid parameter: button can only update button_interaction, vote_interaction or multiple_interaction cards")
		}
		return withReplaceText(cd.state, m.Button.ReplaceName), nil
	}
	if !interactive(cd.cardType) && !cd.menu {
		return nil, fail(codeBadParam, "invalid parameter: a %s card without action_menu cannot be updated", cd.cardType)
	}
	if _, err := parseCard(m.TemplateCard, cardForUpdate); err != nil {
		return nil, err
	}
	return recordBody(m.TemplateCard), nil
}

// targets returns the members whose copy of cd the update m changes, and the
// named userids that never received the card.
func (cd *card) targets(m *updateMsg, code *responseCode) (valid, invalid []string, err *apiError) {
	var users []string
	switch {
	case m.AtAll == 1:
		for u := range cd.recipients {
			valid = append(valid, u)
		}
		sort.Strings(valid)
		return valid, nil, nil
	case len(m.UserIDs) > 0:
		users = m.UserIDs
	case len(m.PartyIDs) > 0 || len(m.TagIDs) > 0:
		return nil, nil, nil // departments and tags are not expanded by the fake
	case code.userID != "":
		users = []string{code.userID}
	default:
		return nil, nil, fail(codeBadParam, "invalid parameter: userids, partyids, tagids and atall are all empty")
	}
	for _, u := range users {
		if cd.recipients["@all"] && validUserID(u) || cd.recipients[u] {
			valid = append(valid, u)
		} else {
			invalid = append(invalid, u)
		}
	}
	if len(valid) == 0 && len(m.PartyIDs) == 0 && len(m.TagIDs) == 0 {
		return nil, nil, fail(codeAllInvalid, "all touser & toparty & totag invalid: none received task %s", code.taskID)
	}
	return valid, invalid, nil
}

// hasJSON reports whether raw holds a value other than null.
func hasJSON(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s != "" && s != "null"
}
