package bot

import (
	"fmt"
	"math"
	"strings"

	"gridbot/bot/classify"
	"gridbot/bot/roster"
	"gridbot/templates"
)

// draft returns the sender's draft, starting one when there is none.
func (c *conv) draft() *Draft {
	ss := c.d.Session
	if ss.Draft == nil {
		// Revisions start from the clock, so that a card of an earlier
		// draft never matches a revision of this one.
		ss.Draft = &Draft{Source: SrcPatrol, Started: c.now, Rev: int(c.now.UnixMilli() % (1 << 30) * 2)}
		// A location sent just before belongs to the new report.
		if l := ss.LastLoc; l != nil && c.now.Sub(l.At) <= c.s.draftTTL() {
			ss.Draft.HasPlace, ss.Draft.Lat, ss.Draft.Lng, ss.Draft.Label = true, l.Lat, l.Lng, l.Label
		}
	}
	ss.Draft.Updated = c.now
	c.d.dirty = true
	return ss.Draft
}

// photo adds a photo to the draft (or answers a pending action) and has
// WeCom's copy downloaded before it expires.
func (c *conv) photo(mediaID string) error {
	if mediaID == "" {
		return nil
	}
	if err := c.tx.Enqueue(c.ctx, NewMediaJob("media:"+mediaID, mediaID, "user:"+c.me.UserID)); err != nil {
		return err
	}
	if p := c.d.Session.Pending; p != nil && p.Need == "photo" {
		return c.answerPending("", []string{mediaID})
	}
	if c.d.Session.Draft == nil {
		if ok, err := c.activityPhoto(mediaID); ok {
			return err
		}
	}
	d := c.draft()
	if d.seen(c.d.DedupeKey) {
		return nil
	}
	d.mark(c.d.DedupeKey)
	for _, id := range d.Photos {
		if id == mediaID {
			return nil
		}
	}
	d.Photos = append(d.Photos, mediaID) // an open card stays valid: it files the draft as it is when tapped
	return c.say(templates.MsgDraftPhoto, templates.DraftData{Photos: len(d.Photos), HasText: d.Text != "", HasPlace: c.placeKnown(d)})
}

// location answers an action waiting for one (a patrol, a sign-in),
// extends a patrol's track, or sets the draft's place; with text already
// in, the card follows.
func (c *conv) location(lat, lng float64, label string) error {
	c.d.Session.LastLoc = &Location{Lat: lat, Lng: lng, Label: label, At: c.now}
	c.d.dirty = true
	if ok, err := c.locationPending(lat, lng); ok {
		return err
	}
	if c.d.Session.Draft == nil {
		if ok, err := c.trackPoint(lat, lng, true); ok {
			return err
		}
	} else if _, err := c.trackPoint(lat, lng, false); err != nil {
		return err
	}
	d := c.draft()
	if d.seen(c.d.DedupeKey) {
		return nil
	}
	d.mark(c.d.DedupeKey)
	hadPlace := c.placeKnown(d)
	d.HasPlace, d.Lat, d.Lng, d.Label = true, lat, lng, label
	d.Rev++
	grid, ok := c.gridOf(d)
	place := label
	if ok {
		place = strings.TrimSpace(label + " " + grid.Name)
	}
	if err := c.say(templates.MsgDraftPlace, templates.DraftData{Photos: len(d.Photos), HasText: d.Text != "", HasPlace: true, Place: place}); err != nil {
		return err
	}
	if d.Text != "" {
		// The place may change the grid or reveal a nearby case: a new card.
		_ = hadPlace
		d.Code = ""
		return c.proposal(d, false)
	}
	return nil
}

// draftText adds a line to the draft and proposes it.
func (c *conv) draftText(t string) error {
	if t == "" {
		return nil
	}
	d := c.draft()
	if d.seen(c.d.DedupeKey) {
		return nil
	}
	d.mark(c.d.DedupeKey)
	if d.Text == "" {
		d.Text = t
	} else {
		d.Text += "；" + t
	}
	d.Code = ""
	d.Rev++
	return c.proposal(d, false)
}

// resident starts a draft for a resident's complaint filed at the station:
// "居民反映 王大爷 13800138000 说明".
func (c *conv) resident(arg string) error {
	f := strings.Fields(arg)
	if len(f) < 3 || !isMobile(f[1]) {
		return c.say(templates.MsgResidentFormat, nil)
	}
	// Photos and a location sent just before belong to this complaint.
	d := c.draft()
	d.Source, d.ResidentName, d.ResidentPhone = SrcResident, f[0], f[1]
	d.mark(c.d.DedupeKey)
	d.Text, d.Code = strings.Join(f[2:], " "), ""
	d.Rev++
	return c.proposal(d, false)
}

func isMobile(s string) bool {
	if len(s) != 11 || s[0] != '1' {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// placeKnown: a location came, or the reporter has a grid of their own.
func (c *conv) placeKnown(d *Draft) bool {
	_, ok := c.gridOf(d)
	return ok
}

// gridOf finds the draft's grid: by its location (point in polygon, or the
// nearest grid within 100 m), else the reporter's own grid.
func (c *conv) gridOf(d *Draft) (roster.Grid, bool) {
	if d.HasPlace {
		if g, ok := c.s.Roster.GridAt(d.Lat, d.Lng); ok {
			return g, true
		}
		if g, _, ok := c.s.Roster.Nearest(d.Lat, d.Lng, 100); ok {
			return g, true
		}
	}
	if c.me.Grid != "" {
		return c.s.Roster.Grid(c.me.Grid)
	}
	return roster.Grid{}, false
}

// proposal answers a draft with text: a card to confirm, a card to pick the
// category when unsure, or a card offering to support a nearby open case.
func (c *conv) proposal(d *Draft, forceNew bool) error {
	if _, ok := c.gridOf(d); !ok {
		return c.say(templates.MsgDraftNeedPlace, nil)
	}
	cands := c.s.Classifier.Classify(d.Text, 5)
	if d.Code == "" && len(cands) > 0 && c.s.Classifier.Confident(cands) {
		d.Code = cands[0].Code
	}
	if d.Code == "" {
		return c.sendDraftCard(d, "pick", c.pickButtons(cands, 4), "", 0)
	}
	if !forceNew && d.HasPlace && d.Source != SrcResident { // a resident's complaint is its own case: its caller is owed a reply
		near, err := c.tx.Nearby(c.ctx, d.Code, d.Lat, d.Lng, c.s.dupMeters())
		if err != nil {
			return err
		}
		if len(near) > 0 {
			n := near[0]
			m := int(math.Round(distance(d.Lat, d.Lng, n.Lat, n.Lng)))
			return c.sendDraftCard(d, "dup", []cardButton{
				{Key: fmt.Sprintf("support:%d", n.ID), Label: c.word(templates.ActionW, string(ActSupport)), Style: 1},
				{Key: "new", Label: c.word(templates.ButtonW, "new"), Style: 2},
				{Key: "cancel", Label: c.word(templates.ButtonW, "cancel"), Style: 2},
			}, n.No, m)
		}
	}
	buttons := []cardButton{
		{Key: "confirm", Label: c.word(templates.ButtonW, "confirm"), Style: 1},
		{Key: "recat", Label: c.word(templates.ButtonW, "recat"), Style: 2},
		{Key: "cancel", Label: c.word(templates.ButtonW, "cancel"), Style: 2},
	}
	if cat, ok := c.s.Classifier.Category(d.Code); ok && Size(cat.Size) == Small && len(d.Photos) >= 2 && c.me.HasRole(roster.RoleInspector) {
		buttons = append(buttons, cardButton{Key: "onspot", Label: c.word(templates.ButtonW, "onspot"), Style: 2})
	}
	return c.sendDraftCard(d, "confirm", buttons, "", 0)
}

func (c *conv) pickButtons(cands []classify.Candidate, n int) []cardButton {
	var out []cardButton
	for i, cd := range cands {
		if i == n {
			break
		}
		out = append(out, cardButton{Key: "pick:" + cd.Code, Label: shorten(cd.Name, 10), Style: 2})
	}
	return append(out, cardButton{Key: "cancel", Label: c.word(templates.ButtonW, "cancel"), Style: 2})
}

// distance in metres between two points (haversine).
func distance(lat1, lng1, lat2, lng2 float64) float64 {
	const r = 6371000.0
	rad := math.Pi / 180
	dlat, dlng := (lat2-lat1)*rad, (lng2-lng1)*rad
	a := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dlng/2)*math.Sin(dlng/2)
	return 2 * r * math.Asin(math.Sqrt(a))
}

// shorten cuts s to n runes with an ellipsis.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// draftCase is the case a confirmed draft would file.
func (c *conv) draftCase(d *Draft) (Case, error) {
	cat, ok := c.s.Classifier.Category(d.Code)
	if !ok {
		return Case{}, Errorf(EINVALID, "unknown category %s", d.Code)
	}
	g, ok := c.gridOf(d)
	if !ok {
		return Case{}, Errorf(EINVALID, "no grid for the report")
	}
	place := d.Label
	if place == "" {
		place = g.Name
	}
	kase := Case{
		Source: d.Source, Reporter: c.me.UserID,
		Code: cat.Code, Category: cat.Name, Plan: cat.Plan, Dept: cat.Dept, Size: Size(cat.Size),
		District: g.District, Community: g.Community, Grid: g.ID, Place: place, Text: d.Text,
		ResidentName: d.ResidentName, ResidentPhone: d.ResidentPhone,
	}
	if d.HasPlace {
		kase.Lat, kase.Lng = d.Lat, d.Lng
	} else {
		kase.Lat, kase.Lng = g.Center.Lat(), g.Center.Lon()
	}
	if d.Source == SrcResident {
		kase.Receiver = c.me.UserID
	}
	return kase, nil
}

// draftClick handles a tap on a draft's card.
func (c *conv) draftClick(card Card, key, responseCode string) error {
	d := c.d.Session.Draft
	if d == nil || d.Rev != card.Version {
		if err := c.finishCard(card, responseCode, c.word(templates.MsgDraftExpired, nil), ""); err != nil {
			return err
		}
		return c.say(templates.MsgDraftExpired, nil)
	}
	c.d.dirty = true // every tap below changes the draft
	switch {
	case key == "cancel":
		c.d.Session.Draft = nil
		c.d.dirty = true
		if err := c.finishCard(card, responseCode, c.word(templates.MsgDraftCancelled, nil), "cancel"); err != nil {
			return err
		}
		return c.say(templates.MsgDraftCancelled, nil)
	case key == "recat":
		d.Rev++
		if err := c.finishCard(card, responseCode, c.word(templates.ButtonW, "recat"), key); err != nil {
			return err
		}
		var cands []classify.Candidate
		for _, cd := range c.s.Classifier.Classify(d.Text, 6) {
			if cd.Code != d.Code {
				cands = append(cands, cd)
			}
		}
		return c.sendDraftCard(d, "pick", c.pickButtons(cands, 5), "", 0)
	case strings.HasPrefix(key, "pick:"):
		code := strings.TrimPrefix(key, "pick:")
		if _, ok := c.s.Classifier.Category(code); !ok {
			return c.say(templates.MsgCardUnknown, nil)
		}
		d.Code = code
		d.Rev++
		if err := c.finishCard(card, responseCode, c.categoryName(code), "pick"); err != nil {
			return err
		}
		return c.proposal(d, false)
	case key == "new":
		d.Rev++
		if err := c.finishCard(card, responseCode, c.word(templates.ButtonW, "new"), key); err != nil {
			return err
		}
		return c.proposal(d, true)
	case strings.HasPrefix(key, "support:"):
		var id int64
		fmt.Sscanf(strings.TrimPrefix(key, "support:"), "%d", &id)
		kase, err := c.tx.GetCase(c.ctx, id)
		if err != nil {
			return c.say(templates.MsgCardUnknown, nil)
		}
		if err := c.perform(kase, Input{Action: ActSupport, Photos: d.Photos, Note: d.Text}, &clickRef{card: card, responseCode: responseCode}); err != nil {
			return err
		}
		if k, err := c.tx.GetCase(c.ctx, id); err == nil && k.Version != kase.Version {
			c.d.Session.Draft = nil // linked; a refused 附议 keeps the draft
		}
		return nil
	case key == "confirm" || key == "onspot":
		kase, err := c.draftCase(d)
		if err != nil {
			return c.say(templates.MsgBadInput, templates.ReasonData{Reason: err.Error()})
		}
		action := ActReport
		if key == "onspot" {
			action = ActOnSpot
		}
		if err := c.perform(kase, Input{Action: action, Photos: d.Photos}, &clickRef{card: card, responseCode: responseCode}); err != nil {
			return err
		}
		c.d.Session.Draft = nil
		c.d.dirty = true
		return nil
	}
	return c.say(templates.MsgCardUnknown, nil)
}

func (c *conv) categoryName(code string) string {
	if cat, ok := c.s.Classifier.Category(code); ok {
		return cat.Name
	}
	return code
}

// sendDraftCard sends a card about the draft; its version is the draft's
// revision, so only the newest card acts.
func (c *conv) sendDraftCard(d *Draft, kind string, buttons []cardButton, dupNo string, dupMeters int) error {
	g, _ := c.gridOf(d)
	place := d.Label
	if place == "" {
		place = g.Name
	}
	data := templates.CardData{Kind: kind, Category: c.categoryName(d.Code), Text: shorten(d.Text, 120), Photos: len(d.Photos), DupNo: dupNo, DupMeters: dupMeters}
	if d.Code == "" {
		data.Category = ""
	}
	if d.ResidentName != "" {
		data.Resident = d.ResidentName + " " + d.ResidentPhone // the filer is the first receiver
	}
	rows := []KeyValue{{KeyName: c.word(templates.RowPlace, nil), Value: shorten(place, 20)}, {KeyName: c.word(templates.RowGrid, nil), Value: g.Name},
		{KeyName: c.word(templates.RowPhotos, nil), Value: c.word(templates.ValuePhotos, data)}}
	return c.sendCard(c.me.UserID, Card{CaseID: 0, Kind: kind, Version: d.Rev}, data, rows, buttons)
}
