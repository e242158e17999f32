package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"gridbot/bot"
)

// Rhythm reads the plan's duties: patrols, visits and activities.
type Rhythm struct{ db *DB }

var _ bot.Rhythm = (*Rhythm)(nil)

// Rhythm returns the reader of patrols, visits and activities.
func (db *DB) Rhythm() *Rhythm { return &Rhythm{db: db} }

type patrolRecord struct {
	ID        int64   `db:"id"`
	UserID    string  `db:"user_id"`
	Grid      string  `db:"grid"`
	District  string  `db:"district"`
	Day       string  `db:"day"`
	StartedAt int64   `db:"started_at"`
	EndedAt   int64   `db:"ended_at"`
	StartLat  float64 `db:"start_lat"`
	StartLng  float64 `db:"start_lng"`
	EndLat    float64 `db:"end_lat"`
	EndLng    float64 `db:"end_lng"`
	Points    int     `db:"points"`
	Counts    int     `db:"counts"`
	Source    string  `db:"source"`
}

func (r patrolRecord) patrol() bot.Patrol {
	return bot.Patrol{ID: r.ID, UserID: r.UserID, Grid: r.Grid, District: r.District, Day: r.Day,
		StartedAt: fromMS(r.StartedAt), EndedAt: fromMS(r.EndedAt), StartLat: r.StartLat, StartLng: r.StartLng,
		EndLat: r.EndLat, EndLng: r.EndLng, Points: r.Points, Counts: r.Counts != 0, Source: r.Source}
}

const patrolColumns = `id, user_id, grid, district, day, started_at, ended_at, start_lat, start_lng, end_lat, end_lng,
	points, counts, source`

// StartPatrol inserts a patrol and sets its ID.
func (t *Tx) StartPatrol(ctx context.Context, p *bot.Patrol) error {
	const q = `INSERT INTO patrols (user_id, grid, district, day, started_at, ended_at, start_lat, start_lng, end_lat,
		end_lng, points, counts, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	if p.StartedAt.IsZero() {
		p.StartedAt = t.now
	}
	if err := checkStrings(
		strCheck{"patrol user", p.UserID, maxKeyLen}, strCheck{"patrol grid", p.Grid, maxKeyLen},
		strCheck{"patrol district", p.District, maxKeyLen}, strCheck{"patrol day", p.Day, maxStateLen},
		strCheck{"patrol source", p.Source, maxStateLen},
	); err != nil {
		return err
	}
	res, err := t.tx.ExecContext(ctx, q, p.UserID, p.Grid, p.District, p.Day, toMS(p.StartedAt), toMS(p.EndedAt),
		p.StartLat, p.StartLng, p.EndLat, p.EndLng, p.Points, b2i(p.Counts), p.Source)
	if err != nil {
		return translate(err)
	}
	p.ID, err = res.LastInsertId()
	return translate(err)
}

// GetPatrol returns one patrol; ENOTFOUND if there is none.
func (t *Tx) GetPatrol(ctx context.Context, id int64) (bot.Patrol, error) {
	var r patrolRecord
	if err := t.tx.GetContext(ctx, &r, `SELECT `+patrolColumns+` FROM patrols WHERE id = ?`, id); err != nil {
		return bot.Patrol{}, notFound(err, "patrol")
	}
	return r.patrol(), nil
}

// FindPatrol finds a user's patrol of a day from a source.
func (t *Tx) FindPatrol(ctx context.Context, userID, day, source string) (bot.Patrol, bool, error) {
	var r patrolRecord
	err := t.tx.GetContext(ctx, &r, `SELECT `+patrolColumns+` FROM patrols WHERE user_id = ? AND day = ? AND source = ?
		ORDER BY id LIMIT 1`, userID, day, source)
	if errors.Is(err, sql.ErrNoRows) {
		return bot.Patrol{}, false, nil
	}
	if err != nil {
		return bot.Patrol{}, false, translate(err)
	}
	return r.patrol(), true, nil
}

// AddTrackPoint adds a location to a patrol's track.
func (t *Tx) AddTrackPoint(ctx context.Context, pt bot.TrackPoint) error {
	if pt.At.IsZero() {
		pt.At = t.now
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO patrol_points (patrol_id, at, lat, lng) VALUES (?, ?, ?, ?)`,
		pt.PatrolID, toMS(pt.At), pt.Lat, pt.Lng); err != nil {
		return translate(err)
	}
	_, err := execOne(ctx, t.tx, `UPDATE patrols SET points = points + 1 WHERE id = ?`, pt.PatrolID)
	return err
}

// EndPatrol records a patrol's end.
func (t *Tx) EndPatrol(ctx context.Context, p bot.Patrol) error {
	const q = `UPDATE patrols SET ended_at = ?, end_lat = ?, end_lng = ?, counts = ? WHERE id = ? AND ended_at = 0`
	n, err := execOne(ctx, t.tx, q, toMS(p.EndedAt), p.EndLat, p.EndLng, b2i(p.Counts), p.ID)
	if err != nil {
		return err
	}
	if n == 0 {
		return bot.Errorf(bot.ECONFLICT, "patrol %d has already ended", p.ID)
	}
	return nil
}

// AddVisit inserts a visit and sets its ID.
func (t *Tx) AddVisit(ctx context.Context, v *bot.Visit) error {
	const q = `INSERT INTO visits (user_id, dept, district, community, day, at, lat, lng, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	if v.At.IsZero() {
		v.At = t.now
	}
	if err := checkStrings(
		strCheck{"visit user", v.UserID, maxKeyLen}, strCheck{"visit dept", v.Dept, maxShortLen},
		strCheck{"visit district", v.District, maxKeyLen}, strCheck{"visit community", v.Community, maxKeyLen},
		strCheck{"visit day", v.Day, maxStateLen}, strCheck{"visit note", v.Note, 0},
	); err != nil {
		return err
	}
	res, err := t.tx.ExecContext(ctx, q, v.UserID, v.Dept, v.District, v.Community, v.Day, toMS(v.At), v.Lat, v.Lng, v.Note)
	if err != nil {
		return translate(err)
	}
	v.ID, err = res.LastInsertId()
	return translate(err)
}

// CountVisits counts a user's visits to a community within [from, to).
func (t *Tx) CountVisits(ctx context.Context, userID, community string, from, to time.Time) (int, error) {
	var n int
	err := t.tx.GetContext(ctx, &n, `SELECT COUNT(*) FROM visits WHERE user_id = ? AND community = ? AND at >= ? AND at < ?`,
		userID, community, toMS(from), toMS(to))
	return n, translate(err)
}

// AddActivity inserts an activity and sets its ID.
func (t *Tx) AddActivity(ctx context.Context, a *bot.Activity) error {
	const q = `INSERT INTO activities (user_id, dept, district, month, kind, topic, place, attendance, photos, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	if a.At.IsZero() {
		a.At = t.now
	}
	if err := checkStrings(
		strCheck{"activity user", a.UserID, maxKeyLen}, strCheck{"activity dept", a.Dept, maxShortLen},
		strCheck{"activity district", a.District, maxKeyLen}, strCheck{"activity month", a.Month, 8},
		strCheck{"activity kind", a.Kind, maxStateLen}, strCheck{"activity topic", a.Topic, 0},
		strCheck{"activity place", a.Place, 0},
	); err != nil {
		return err
	}
	photos, err := json.Marshal(nonNilStrings(a.Photos))
	if err != nil {
		return bot.Errorf(bot.EINVALID, "store: activity photos: %v", err)
	}
	res, err := t.tx.ExecContext(ctx, q, a.UserID, a.Dept, a.District, a.Month, a.Kind, a.Topic, a.Place, a.Attendance, string(photos), toMS(a.At))
	if err != nil {
		return translate(err)
	}
	a.ID, err = res.LastInsertId()
	return translate(err)
}

// AddActivityPhotos appends photos to an activity.
func (t *Tx) AddActivityPhotos(ctx context.Context, id int64, photos ...string) error {
	var raw string
	if err := t.tx.GetContext(ctx, &raw, `SELECT photos FROM activities WHERE id = ?`+t.db.dialect("", " FOR UPDATE"), id); err != nil {
		return notFound(err, "activity")
	}
	var list []string
	_ = json.Unmarshal([]byte(raw), &list)
	list = append(list, photos...)
	b, _ := json.Marshal(list)
	_, err := execOne(ctx, t.tx, `UPDATE activities SET photos = ? WHERE id = ?`, string(b), id)
	return err
}

// Patrols returns the patrols started within [from, to), oldest first.
func (r *Rhythm) Patrols(ctx context.Context, from, to time.Time) ([]bot.Patrol, error) {
	var recs []patrolRecord
	if err := r.db.db.SelectContext(ctx, &recs, `SELECT `+patrolColumns+` FROM patrols WHERE started_at >= ? AND started_at < ?
		ORDER BY started_at, id`, toMS(from), toMS(to)); err != nil {
		return nil, translate(err)
	}
	out := make([]bot.Patrol, 0, len(recs))
	for _, rec := range recs {
		out = append(out, rec.patrol())
	}
	return out, nil
}

// Visits returns the visits within [from, to), oldest first.
func (r *Rhythm) Visits(ctx context.Context, from, to time.Time) ([]bot.Visit, error) {
	var recs []struct {
		ID        int64   `db:"id"`
		UserID    string  `db:"user_id"`
		Dept      string  `db:"dept"`
		District  string  `db:"district"`
		Community string  `db:"community"`
		Day       string  `db:"day"`
		At        int64   `db:"at"`
		Lat       float64 `db:"lat"`
		Lng       float64 `db:"lng"`
		Note      string  `db:"note"`
	}
	if err := r.db.db.SelectContext(ctx, &recs, `SELECT id, user_id, dept, district, community, day, at, lat, lng, note
		FROM visits WHERE at >= ? AND at < ? ORDER BY at, id`, toMS(from), toMS(to)); err != nil {
		return nil, translate(err)
	}
	out := make([]bot.Visit, 0, len(recs))
	for _, v := range recs {
		out = append(out, bot.Visit{ID: v.ID, UserID: v.UserID, Dept: v.Dept, District: v.District, Community: v.Community,
			Day: v.Day, At: fromMS(v.At), Lat: v.Lat, Lng: v.Lng, Note: v.Note})
	}
	return out, nil
}

// Activities returns the activities within [from, to), oldest first.
func (r *Rhythm) Activities(ctx context.Context, from, to time.Time) ([]bot.Activity, error) {
	var recs []struct {
		ID         int64  `db:"id"`
		UserID     string `db:"user_id"`
		Dept       string `db:"dept"`
		District   string `db:"district"`
		Month      string `db:"month"`
		Kind       string `db:"kind"`
		Topic      string `db:"topic"`
		Place      string `db:"place"`
		Attendance int    `db:"attendance"`
		Photos     string `db:"photos"`
		At         int64  `db:"at"`
	}
	if err := r.db.db.SelectContext(ctx, &recs, `SELECT id, user_id, dept, district, month, kind, topic, place, attendance,
		photos, at FROM activities WHERE at >= ? AND at < ? ORDER BY at, id`, toMS(from), toMS(to)); err != nil {
		return nil, translate(err)
	}
	out := make([]bot.Activity, 0, len(recs))
	for _, a := range recs {
		var photos []string
		_ = json.Unmarshal([]byte(a.Photos), &photos)
		out = append(out, bot.Activity{ID: a.ID, UserID: a.UserID, Dept: a.Dept, District: a.District, Month: a.Month,
			Kind: a.Kind, Topic: a.Topic, Place: a.Place, Attendance: a.Attendance, Photos: photos, At: fromMS(a.At)})
	}
	return out, nil
}

// notFound turns "no rows" into ENOTFOUND and anything else into its code.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return bot.Errorf(bot.ENOTFOUND, "store: no such %s", what)
	}
	return translate(err)
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
