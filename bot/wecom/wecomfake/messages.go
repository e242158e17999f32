package wecomfake

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// delivers reports whether an API call puts something in front of people.
func delivers(api string) bool {
	switch api {
	case "message/send", "update_template_card", "appchat/send", "webhook/send":
		return true
	}
	return false
}

// Messages returns what to actually saw, oldest first: the accepted
// message/send calls naming member to in touser (less those the per-member
// quota dropped), the update_template_card calls that changed to's card,
// the appchat/send calls to chatid to, or the webhook/send calls of robot
// to ("robot:<name or key>").
func (f *Fake) Messages(to string) []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Request
	for _, r := range f.requests {
		if r.ErrCode == 0 && r.HTTPStatus == 0 && delivers(r.API) && slices.Contains(r.Recipients, to) {
			out = append(out, r)
		}
	}
	return out
}

// MaxPerMinute returns the largest number of app messages (message/send
// accepted with errcode 0, dropped ones included) addressed to member
// userID within any sliding 60-second window. WeCom silently drops what
// exceeds 30, so a well-behaved sender keeps this ≤ 30.
func (f *Fake) MaxPerMinute(userID string) int {
	f.mu.Lock()
	ts := slices.Clone(f.sends[userID])
	f.mu.Unlock()
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	best, i := 0, 0
	for j := range ts {
		for ts[j].Sub(ts[i]) >= time.Minute {
			i++
		}
		best = max(best, j-i+1)
	}
	return best
}

// messageJSON is one entry of MessagesHandler's answer.
type messageJSON struct {
	Seq     int64           `json:"seq"`
	At      string          `json:"at"`
	API     string          `json:"api"`
	To      string          `json:"to"`
	MsgType string          `json:"msgtype"`
	Body    json.RawMessage `json:"body"`
	MsgID   string          `json:"msgid,omitempty"`
	TaskID  string          `json:"task_id,omitempty"`
}

// MessagesHandler serves GET ?to=USERID (or a chatid, or robot:NAME): the
// JSON array of Messages(to), oldest first, each entry
// {"seq","at" (RFC 3339),"api","to","msgtype","body"} plus "msgid" and
// "task_id" when set. An optional after=SEQ returns only later entries.
// A missing to answers 400 with {"error":"…"}.
func (f *Fake) MessagesHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
			return
		}
		q := r.URL.Query()
		to := q.Get("to")
		if to == "" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "missing query parameter: to"})
			return
		}
		var after int64
		if s := q.Get("after"); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "after must be a sequence number"})
				return
			}
			after = n
		}
		out := []messageJSON{}
		for _, m := range f.Messages(to) {
			if m.Seq <= after {
				continue
			}
			out = append(out, messageJSON{
				Seq: m.Seq, At: m.At.Format(time.RFC3339), API: m.API, To: m.To,
				MsgType: m.MsgType, Body: m.Body, MsgID: m.MsgID, TaskID: m.TaskID,
			})
		}
		writeJSON(w, http.StatusOK, out)
	})
}
