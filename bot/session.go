package bot

import (
	"encoding/json"
	"time"
)

// Session is one member's conversation state: a report being assembled and
// an action waiting for a photo or a line of text. It lives in Redis (or the
// SQL session table) with a TTL; losing it loses a draft, never a case.
type Session struct {
	Draft          *Draft    `json:"draft,omitempty"`
	Pending        *Pending  `json:"pending,omitempty"`
	LastLoc        *Location `json:"last_loc,omitempty"` // the member's latest location
	Patrol         int64     `json:"patrol,omitempty"`   // the patrol under way
	Activity       int64     `json:"activity,omitempty"` // the activity photos attach to
	ActivityUntil  time.Time `json:"activity_until,omitempty"`
	ActivityPhotos int       `json:"activity_photos,omitempty"`
}

// Location is a point the member sent, and when.
type Location struct {
	Lat   float64   `json:"lat"`
	Lng   float64   `json:"lng"`
	Label string    `json:"label,omitempty"`
	At    time.Time `json:"at"`
}

// Draft is a report being assembled from photos, a location and text, in
// any order, within the draft window.
type Draft struct {
	Rev           int       `json:"rev"` // grows with every change; a card shows one revision
	Source        Source    `json:"source"`
	ResidentName  string    `json:"resident_name,omitempty"`
	ResidentPhone string    `json:"resident_phone,omitempty"`
	Photos        []string  `json:"photos,omitempty"` // media ids, in order, no repeats
	HasPlace      bool      `json:"has_place,omitempty"`
	Lat           float64   `json:"lat,omitempty"`
	Lng           float64   `json:"lng,omitempty"`
	Label         string    `json:"label,omitempty"`
	Text          string    `json:"text,omitempty"`
	Code          string    `json:"code,omitempty"` // the category chosen (or proposed with confidence)
	Started       time.Time `json:"started"`
	Updated       time.Time `json:"updated"`
	Seen          []string  `json:"seen,omitempty"` // dedupe keys already applied: a replay is harmless
}

// Pending is an action that waits for the member's next photo or text.
type Pending struct {
	CaseID       int64     `json:"case_id"`
	Version      int       `json:"version"`
	Action       Action    `json:"action"`
	Param        string    `json:"param,omitempty"`
	Need         string    `json:"need"` // photo, text
	Optional     bool      `json:"optional"`
	TaskID       string    `json:"task_id"`
	ResponseCode string    `json:"response_code"`
	Until        time.Time `json:"until"`
}

func (s *Session) empty() bool {
	return s == nil || (s.Draft == nil && s.Pending == nil && s.LastLoc == nil && s.Patrol == 0 && s.Activity == 0)
}

func (d *Draft) seen(key string) bool {
	for _, k := range d.Seen {
		if k == key {
			return true
		}
	}
	return false
}

func (d *Draft) mark(key string) {
	d.Seen = append(d.Seen, key)
	if len(d.Seen) > 32 {
		d.Seen = d.Seen[len(d.Seen)-32:]
	}
}

func encodeSession(s *Session) []byte {
	b, _ := json.Marshal(s)
	return b
}

func decodeSession(b []byte) *Session {
	var s Session
	if json.Unmarshal(b, &s) != nil {
		return &Session{}
	}
	return &s
}
