package bot

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gridbot/bot/roster"
	"gridbot/templates"
)

// Rhythm actions waiting for a location.
const (
	actPatrolStart Action = "patrol_start"
	actPatrolEnd   Action = "patrol_end"
	actVisit       Action = "visit"
)

// patrolNear is how far outside their grid an inspector may start or end a
// patrol and have it count.
const patrolNear = 200.0

// lastLocFresh is how old a location may be and still start or end a
// patrol, or sign in, without asking for a new one.
const lastLocFresh = 2 * time.Minute

// rhythmCommand handles the patrol, visit and activity commands; ok is
// false when t is not one of them.
func (c *conv) rhythmCommand(t string) (bool, error) {
	switch {
	case t == "开始巡查":
		return true, c.patrolStart()
	case t == "结束巡查":
		return true, c.patrolEnd()
	case t == "签到" || strings.HasPrefix(t, "签到 "):
		return true, c.visit(strings.TrimSpace(strings.TrimPrefix(t, "签到")))
	case strings.HasPrefix(t, "活动登记"):
		return true, c.activity(strings.TrimSpace(strings.TrimPrefix(t, "活动登记")))
	}
	return false, nil
}

// freshLocation is the sender's last location if it is recent.
func (c *conv) freshLocation() (lat, lng float64, ok bool) {
	l := c.d.Session.LastLoc
	if l == nil || c.now.Sub(l.At) > lastLocFresh {
		return 0, 0, false
	}
	return l.Lat, l.Lng, true
}

func (c *conv) waitForLocation(action Action, param, prompt string) error {
	c.d.Session.Pending = &Pending{Action: action, Param: param, Need: "location", Until: c.now.Add(c.s.pendingTTL())}
	c.d.dirty = true
	return c.say(prompt, nil)
}

func (c *conv) patrolStart() error {
	if !c.me.HasRole(roster.RoleInspector) || c.me.Grid == "" {
		return c.say(templates.MsgPatrolOnlyInspectors, nil)
	}
	if id := c.d.Session.Patrol; id != 0 {
		if p, err := c.tx.GetPatrol(c.ctx, id); err == nil && p.EndedAt.IsZero() {
			return c.say(templates.MsgPatrolAlready, templates.RhythmData{Since: c.s.clockTime(p.StartedAt)})
		}
	}
	if lat, lng, ok := c.freshLocation(); ok {
		return c.beginPatrol(lat, lng)
	}
	return c.waitForLocation(actPatrolStart, "", templates.MsgPatrolNeedStart)
}

func (c *conv) beginPatrol(lat, lng float64) error {
	g, _ := c.s.Roster.Grid(c.me.Grid)
	p := Patrol{UserID: c.me.UserID, Grid: g.ID, District: g.District, Day: c.s.day(c.now), StartedAt: c.now,
		StartLat: lat, StartLng: lng, Source: "chat"}
	if err := c.tx.StartPatrol(c.ctx, &p); err != nil {
		return err
	}
	c.d.Session.Patrol = p.ID
	c.d.dirty = true
	return c.say(templates.MsgPatrolStarted, templates.RhythmData{Grid: g.Name})
}

func (c *conv) patrolEnd() error {
	if !c.me.HasRole(roster.RoleInspector) {
		return c.say(templates.MsgPatrolOnlyInspectors, nil)
	}
	if c.d.Session.Patrol == 0 {
		return c.say(templates.MsgPatrolNone, nil)
	}
	if lat, lng, ok := c.freshLocation(); ok {
		return c.finishPatrol(lat, lng)
	}
	return c.waitForLocation(actPatrolEnd, "", templates.MsgPatrolNeedEnd)
}

func (c *conv) finishPatrol(lat, lng float64) error {
	p, err := c.tx.GetPatrol(c.ctx, c.d.Session.Patrol)
	c.d.Session.Patrol = 0
	c.d.dirty = true
	if ErrorCode(err) == ENOTFOUND {
		return c.say(templates.MsgPatrolNone, nil)
	}
	if err != nil {
		return err
	}
	if !p.EndedAt.IsZero() {
		return c.say(templates.MsgPatrolNone, nil)
	}
	p.EndedAt, p.EndLat, p.EndLng = c.now, lat, lng
	p.Counts = c.s.inGrid(p.Grid, p.StartLat, p.StartLng) && c.s.inGrid(p.Grid, lat, lng)
	if err := c.tx.EndPatrol(c.ctx, p); err != nil {
		return err
	}
	g, _ := c.s.Roster.Grid(p.Grid)
	return c.say(templates.MsgPatrolEnded, templates.RhythmData{Grid: g.Name, Minutes: int(p.EndedAt.Sub(p.StartedAt).Minutes()),
		Points: p.Points, Counts: p.Counts})
}

// inGrid: the point is in the grid or within patrolNear metres of it.
func (s *Service) inGrid(grid string, lat, lng float64) bool {
	if g, ok := s.Roster.GridAt(lat, lng); ok && g.ID == grid {
		return true
	}
	g, _, ok := s.Roster.Nearest(lat, lng, patrolNear)
	return ok && g.ID == grid
}

// trackPoint adds a location to the sender's patrol; false when none runs.
func (c *conv) trackPoint(lat, lng float64, reply bool) (bool, error) {
	id := c.d.Session.Patrol
	if id == 0 {
		return false, nil
	}
	p, err := c.tx.GetPatrol(c.ctx, id)
	if err != nil || !p.EndedAt.IsZero() {
		c.d.Session.Patrol = 0
		c.d.dirty = true
		return false, nil
	}
	if err := c.tx.AddTrackPoint(c.ctx, TrackPoint{PatrolID: id, At: c.now, Lat: lat, Lng: lng}); err != nil {
		return true, err
	}
	if !reply {
		return true, nil
	}
	return true, c.say(templates.MsgPatrolPoint, templates.RhythmData{Points: p.Points + 1})
}

func (c *conv) visit(note string) error {
	if !c.me.HasRole(roster.RoleGuidance) {
		return c.say(templates.MsgVisitOnlyGuidance, nil)
	}
	if lat, lng, ok := c.freshLocation(); ok {
		return c.signIn(lat, lng, note)
	}
	return c.waitForLocation(actVisit, note, templates.MsgVisitNeedPlace)
}

func (c *conv) signIn(lat, lng float64, note string) error {
	g, ok := c.s.Roster.GridAt(lat, lng)
	if !ok {
		g, _, ok = c.s.Roster.Nearest(lat, lng, patrolNear)
	}
	if !ok {
		return c.say(templates.MsgVisitOutside, nil)
	}
	com, _ := c.s.Roster.Community(g.Community)
	v := Visit{UserID: c.me.UserID, Dept: string(c.me.Dept), District: g.District, Community: g.Community,
		Day: c.s.day(c.now), At: c.now, Lat: lat, Lng: lng, Note: note}
	if err := c.tx.AddVisit(c.ctx, &v); err != nil {
		return err
	}
	from := c.s.weekStart(c.now)
	n, err := c.tx.CountVisits(c.ctx, c.me.UserID, g.Community, from, from.AddDate(0, 0, 7))
	if err != nil {
		return err
	}
	return c.say(templates.MsgVisitDone, templates.RhythmData{Community: com.Name, Count: n})
}

// activity records "活动登记 类型 主题 地点 人数".
func (c *conv) activity(arg string) error {
	if !c.me.HasRole(roster.RoleGuidance) {
		return c.say(templates.MsgVisitOnlyGuidance, nil)
	}
	f := strings.Fields(arg)
	if len(f) < 4 {
		return c.say(templates.MsgActivityFormat, nil)
	}
	kind := ""
	switch {
	case strings.Contains(f[0], "法") || strings.Contains(f[0], "宣传"):
		kind = "law"
	case strings.Contains(f[0], "服务") || strings.Contains(f[0], "便民"):
		kind = "service"
	}
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSuffix(f[len(f)-1], "人"), "名"))
	if kind == "" || err != nil || n < 0 {
		return c.say(templates.MsgActivityFormat, nil)
	}
	place := f[len(f)-2]
	topic := strings.Join(f[1:len(f)-2], " ")
	a := Activity{UserID: c.me.UserID, Dept: string(c.me.Dept), District: c.me.District, Month: c.s.month(c.now),
		Kind: kind, Topic: topic, Place: place, Attendance: n, At: c.now}
	if err := c.tx.AddActivity(c.ctx, &a); err != nil {
		return err
	}
	c.d.Session.Activity, c.d.Session.ActivityUntil = a.ID, c.now.Add(c.s.draftTTL())
	c.d.dirty = true
	l := c.now.In(c.s.Policy.Zone)
	return c.say(templates.MsgActivityDone, templates.RhythmData{Month: fmt.Sprintf("%d月", int(l.Month())), Kind: kind,
		Topic: topic, Place: place, Attendance: n})
}

// activityPhoto attaches a photo to the activity just recorded; false when
// there is none.
func (c *conv) activityPhoto(mediaID string) (bool, error) {
	ss := c.d.Session
	if ss.Activity == 0 || c.now.After(ss.ActivityUntil) {
		return false, nil
	}
	if err := c.tx.AddActivityPhotos(c.ctx, ss.Activity, mediaID); err != nil {
		return true, err
	}
	ss.ActivityPhotos++
	c.d.dirty = true
	return true, c.say(templates.MsgActivityPhoto, templates.RhythmData{Photos: ss.ActivityPhotos})
}

// locationPending completes an action that waited for a location.
func (c *conv) locationPending(lat, lng float64) (bool, error) {
	p := c.d.Session.Pending
	if p == nil || p.Need != "location" {
		return false, nil
	}
	c.d.Session.Pending = nil
	c.d.dirty = true
	switch p.Action {
	case actPatrolStart:
		return true, c.beginPatrol(lat, lng)
	case actPatrolEnd:
		return true, c.finishPatrol(lat, lng)
	case actVisit:
		return true, c.signIn(lat, lng, p.Param)
	}
	return false, nil
}

// day, month and weekStart are local (Asia/Shanghai) calendar helpers.
func (s *Service) day(t time.Time) string   { return t.In(s.Policy.Zone).Format("2006-01-02") }
func (s *Service) month(t time.Time) string { return t.In(s.Policy.Zone).Format("2006-01") }

// weekStart is the Monday 00:00 of t's week.
func (s *Service) weekStart(t time.Time) time.Time {
	l := t.In(s.Policy.Zone)
	d := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, s.Policy.Zone)
	wd := int(d.Weekday())
	if wd == 0 {
		wd = 7
	}
	return d.AddDate(0, 0, 1-wd)
}

func (s *Service) clockTime(t time.Time) string { return t.In(s.Policy.Zone).Format("15:04") }
