package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"gridbot/bot"
)

var _ bot.Cases = (*Cases)(nil)

// Cases is the SQL store of cases, their events, photos and cards
// (bot.Cases). Changes go through InTx, whose Tx also carries the outbox, so
// a case and the calls it causes commit together; the other methods read,
// each on its own, except MediaStored, which records a downloaded file.
//
// Transactions that touch cases are not run again on a deadlock: fn may keep
// state of its own. A deadlock or a TiDB write conflict comes back as
// EUNAVAILABLE and the caller (the inbox, a sweep) tries again later.
type Cases struct {
	db *DB
}

// Column limits of the cases tables, in characters (VARCHAR(n) on MySQL),
// checked before a write so that no dialect truncates or rejects a value the
// other would take. maxText is the capacity in bytes of a TEXT column.
const (
	maxText      = 65535
	maxNoLen     = 32  // cases.no, cases.dup_of
	maxStateLen  = 16  // statuses, source, size, photo kind, card state
	maxCodeLen   = 8   // GB/T 47678.5 code
	maxShortLen  = 64  // plan, dept, resident phone, card action
	maxLabelLen  = 32  // close code, event action, card kind
	maxPlaceLen  = 500 // cases.place
	maxFileLen   = 255 // stored file name
	maxTypeLen   = 128 // content type
	maxTaskIDLen = 128 // cards.task_id
	maxDayKeyLen = 32  // case_seq.day_key
	maxPrefixLen = 16  // case number prefix (ASCII)
)

// Page sizes of ListCases and List.
const (
	defaultCases  = 50
	maxCasesLimit = 500
)

// earthRadiusM is the mean radius of the Earth in meters, Nearby's sphere.
const earthRadiusM = 6371000.0

// checkString validates a value for a VARCHAR(n) column: valid UTF-8 (MySQL
// refuses anything else) of at most n characters.
func checkString(what, s string, n int) error {
	if !utf8.ValidString(s) {
		return bot.Errorf(bot.EINVALID, "store: %s is not valid UTF-8", what)
	}
	if len(s) > n && utf8.RuneCountInString(s) > n {
		return bot.Errorf(bot.EINVALID, "store: %s longer than %d characters", what, n)
	}
	return nil
}

// checkText validates a value for a TEXT column: valid UTF-8 of at most
// maxText bytes.
func checkText(what, s string) error {
	if !utf8.ValidString(s) {
		return bot.Errorf(bot.EINVALID, "store: %s is not valid UTF-8", what)
	}
	if len(s) > maxText {
		return bot.Errorf(bot.EINVALID, "store: %s longer than %d bytes", what, maxText)
	}
	return nil
}

// strCheck is one string column to validate: its name, value and limit in
// characters (0 for a TEXT column).
type strCheck struct {
	what  string
	value string
	max   int
}

// checkStrings runs checkString or checkText on every column, stopping at
// the first error.
func checkStrings(cols ...strCheck) error {
	for _, c := range cols {
		var err error
		if c.max == 0 {
			err = checkText(c.what, c.value)
		} else {
			err = checkString(c.what, c.value, c.max)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// checkCase validates every column of c that UpdateCase writes (all but
// the number, which CreateCase checks).
func checkCase(c bot.Case) error {
	if math.IsNaN(c.Lat) || math.IsNaN(c.Lng) || math.Abs(c.Lat) > 90 || math.Abs(c.Lng) > 180 {
		return bot.Errorf(bot.EINVALID, "store: case location (%v, %v) is not a coordinate", c.Lat, c.Lng)
	}
	if c.Version < 0 || c.Version > math.MaxInt32 || c.Escalations < 0 || c.Rework < 0 || c.Supports < 0 ||
		c.Escalations > math.MaxInt32 || c.Rework > math.MaxInt32 || c.Supports > math.MaxInt32 {
		return bot.Errorf(bot.EINVALID, "store: case counter out of range")
	}
	return checkStrings(
		strCheck{"status", string(c.Status), maxStateLen},
		strCheck{"source", string(c.Source), maxStateLen},
		strCheck{"reporter", c.Reporter, maxKeyLen},
		strCheck{"receiver", c.Receiver, maxKeyLen},
		strCheck{"resident name", c.ResidentName, maxKeyLen},
		strCheck{"resident phone", c.ResidentPhone, maxShortLen},
		strCheck{"code", c.Code, maxCodeLen},
		strCheck{"category", c.Category, maxKeyLen},
		strCheck{"plan", c.Plan, maxShortLen},
		strCheck{"dept", c.Dept, maxShortLen},
		strCheck{"size", string(c.Size), maxStateLen},
		strCheck{"district", c.District, maxKeyLen},
		strCheck{"community", c.Community, maxKeyLen},
		strCheck{"grid", c.Grid, maxKeyLen},
		strCheck{"place", c.Place, maxPlaceLen},
		strCheck{"text", c.Text, 0},
		strCheck{"holder", string(c.Holder), maxStateLen},
		strCheck{"assignee", c.Assignee, maxKeyLen},
		strCheck{"partner", c.Partner, maxKeyLen},
		strCheck{"close code", string(c.CloseCode), maxLabelLen},
		strCheck{"close note", c.CloseNote, 0},
		strCheck{"duplicate of", c.DupOf, maxNoLen},
	)
}

// b2i is the stored form of a bool: 0 or 1 on both dialects.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// caseRecord is a cases row as stored.
type caseRecord struct {
	ID            int64   `db:"id"`
	No            string  `db:"no"`
	Status        string  `db:"status"`
	Version       int     `db:"version"`
	Source        string  `db:"source"`
	Reporter      string  `db:"reporter"`
	Receiver      string  `db:"receiver"`
	ResidentName  string  `db:"resident_name"`
	ResidentPhone string  `db:"resident_phone"`
	Code          string  `db:"code"`
	Category      string  `db:"category"`
	Plan          string  `db:"plan"`
	Dept          string  `db:"dept"`
	Size          string  `db:"size"`
	District      string  `db:"district"`
	Community     string  `db:"community"`
	Grid          string  `db:"grid"`
	Lat           float64 `db:"lat"`
	Lng           float64 `db:"lng"`
	Place         string  `db:"place"`
	Text          string  `db:"text"`
	Holder        string  `db:"holder"`
	Assignee      string  `db:"assignee"`
	Partner       string  `db:"partner"`
	DueAt         int64   `db:"due_at"`
	RemindAt      int64   `db:"remind_at"`
	Overdue       int     `db:"overdue"`
	Escalations   int     `db:"escalations"`
	Rework        int     `db:"rework"`
	Supports      int     `db:"supports"`
	OnSpot        int     `db:"on_spot"`
	CloseCode     string  `db:"close_code"`
	CloseNote     string  `db:"close_note"`
	DupOf         string  `db:"dup_of"`
	ClosedAt      int64   `db:"closed_at"`
	CreatedAt     int64   `db:"created_at"`
	UpdatedAt     int64   `db:"updated_at"`
}

// caseColumns are the columns every case read selects, in record order.
const caseColumns = `id, no, status, version, source, reporter, receiver, resident_name, resident_phone,
	code, category, plan, dept, size, district, community, grid, lat, lng, place, text,
	holder, assignee, partner, due_at, remind_at, overdue, escalations, rework, supports, on_spot,
	close_code, close_note, dup_of, closed_at, created_at, updated_at`

// toCase converts the record to the domain type.
func (r caseRecord) toCase() bot.Case {
	return bot.Case{
		ID:            r.ID,
		No:            r.No,
		Status:        bot.Status(r.Status),
		Version:       r.Version,
		Source:        bot.Source(r.Source),
		Reporter:      r.Reporter,
		Receiver:      r.Receiver,
		ResidentName:  r.ResidentName,
		ResidentPhone: r.ResidentPhone,
		Code:          r.Code,
		Category:      r.Category,
		Plan:          r.Plan,
		Dept:          r.Dept,
		Size:          bot.Size(r.Size),
		District:      r.District,
		Community:     r.Community,
		Grid:          r.Grid,
		Lat:           r.Lat,
		Lng:           r.Lng,
		Place:         r.Place,
		Text:          r.Text,
		Holder:        bot.Status(r.Holder),
		Assignee:      r.Assignee,
		Partner:       r.Partner,
		DueAt:         fromMS(r.DueAt),
		RemindAt:      fromMS(r.RemindAt),
		Overdue:       r.Overdue != 0,
		Escalations:   r.Escalations,
		Rework:        r.Rework,
		Supports:      r.Supports,
		OnSpot:        r.OnSpot != 0,
		CloseCode:     bot.CloseCode(r.CloseCode),
		CloseNote:     r.CloseNote,
		DupOf:         r.DupOf,
		ClosedAt:      fromMS(r.ClosedAt),
		CreatedAt:     fromMS(r.CreatedAt),
		UpdatedAt:     fromMS(r.UpdatedAt),
	}
}

// toCases converts records to domain cases.
func toCases(recs []caseRecord) []bot.Case {
	out := make([]bot.Case, len(recs))
	for i, r := range recs {
		out[i] = r.toCase()
	}
	return out
}

// InTx runs fn in one transaction whose Tx carries the case methods and the
// outbox: everything fn does commits together, or nothing does when fn
// fails (its error is returned as is). fn must do its work through the Tx
// only: on SQLite the transaction holds the one connection.
func (cs *Cases) InTx(ctx context.Context, fn func(bot.Tx) error) error {
	tx, now, err := cs.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()

	if err := fn(&Tx{db: cs.db, tx: tx, now: now}); err != nil {
		return err
	}
	return commit(tx)
}

// NextCaseNo returns the next case number of prefix on day, in the
// transaction: prefix-YYYYMMDD-NNN, with more digits past 999. day is taken
// in its own location (the caller's local zone), not converted.
//
// The counter row is made or incremented by one upsert rather than an
// UPDATE followed by an INSERT when it matched nothing: on InnoDB that
// UPDATE gap-locks the missing key, and two transactions taking the first
// number of a day would deadlock on their INSERTs. The upsert holds the
// row's lock until the transaction ends, so numbers never repeat, and a
// rolled-back transaction gives its number back.
func (t *Tx) NextCaseNo(ctx context.Context, prefix string, day time.Time) (string, error) {
	const qSQLite = `INSERT INTO case_seq (day_key, n) VALUES (?, 1)
		ON CONFLICT (day_key) DO UPDATE SET n = n + 1`
	const qMySQL = `INSERT INTO case_seq (day_key, n) VALUES (?, 1)
		ON DUPLICATE KEY UPDATE n = n + 1`
	const qRead = `SELECT n FROM case_seq WHERE day_key = ?`
	if prefix == "" || len(prefix) > maxPrefixLen || strings.ContainsFunc(prefix, func(r rune) bool {
		return r <= ' ' || r >= utf8.RuneSelf
	}) {
		return "", bot.Errorf(bot.EINVALID, "store: case number prefix %q must be 1 to %d printable ASCII characters", prefix, maxPrefixLen)
	}
	if day.IsZero() {
		return "", bot.Errorf(bot.EINVALID, "store: case number day is zero")
	}
	date := day.Format("20060102")
	key := prefix + date
	if len(key) > maxDayKeyLen {
		return "", bot.Errorf(bot.EINVALID, "store: case number day key %q too long", key)
	}
	if _, err := t.tx.ExecContext(ctx, t.db.dialect(qSQLite, qMySQL), key); err != nil {
		return "", translate(err)
	}
	var n int
	if err := t.tx.GetContext(ctx, &n, qRead, key); err != nil {
		return "", translate(err)
	}
	no := fmt.Sprintf("%s-%s-%03d", prefix, date, n)
	if len(no) > maxNoLen {
		return "", bot.Errorf(bot.EINVALID, "store: case number %q too long", no)
	}
	return no, nil
}

// CreateCase inserts c and sets its ID and Version (1); CreatedAt and
// UpdatedAt default to the transaction's time. A number that exists is
// ECONFLICT.
func (t *Tx) CreateCase(ctx context.Context, c *bot.Case) error {
	const q = `INSERT INTO cases (no, status, version, source, reporter, receiver, resident_name, resident_phone,
		code, category, plan, dept, size, district, community, grid, lat, lng, place, text,
		holder, assignee, partner, due_at, remind_at, overdue, escalations, rework, supports, on_spot,
		close_code, close_note, dup_of, closed_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?,
		?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
		?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
		?, ?, ?, ?, ?, ?)`
	if c == nil {
		return bot.Errorf(bot.EINVALID, "store: nil case")
	}
	nc := *c
	nc.Version = 1
	if nc.CreatedAt.IsZero() {
		nc.CreatedAt = t.now
	}
	if nc.UpdatedAt.IsZero() {
		nc.UpdatedAt = t.now
	}
	if nc.No == "" {
		return bot.Errorf(bot.EINVALID, "store: case has no number")
	}
	if err := checkString("case number", nc.No, maxNoLen); err != nil {
		return err
	}
	if err := checkCase(nc); err != nil {
		return err
	}
	res, err := t.tx.ExecContext(ctx, q, nc.No, string(nc.Status), nc.Version, string(nc.Source), nc.Reporter,
		nc.Receiver, nc.ResidentName, nc.ResidentPhone,
		nc.Code, nc.Category, nc.Plan, nc.Dept, string(nc.Size), nc.District, nc.Community, nc.Grid,
		nc.Lat, nc.Lng, nc.Place, nc.Text,
		string(nc.Holder), nc.Assignee, nc.Partner, toMS(nc.DueAt), toMS(nc.RemindAt), b2i(nc.Overdue),
		nc.Escalations, nc.Rework, nc.Supports, b2i(nc.OnSpot),
		string(nc.CloseCode), nc.CloseNote, nc.DupOf, toMS(nc.ClosedAt), toMS(nc.CreatedAt), toMS(nc.UpdatedAt))
	if err != nil {
		return translate(err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return translate(err)
	}
	nc.ID = id
	*c = nc
	return nil
}

// GetCase returns the case with id; ENOTFOUND if there is none.
func (t *Tx) GetCase(ctx context.Context, id int64) (bot.Case, error) {
	return getCase(ctx, t.tx, id)
}

// GetCaseByNo returns the case numbered no; ENOTFOUND if there is none.
func (t *Tx) GetCaseByNo(ctx context.Context, no string) (bot.Case, error) {
	return getCaseByNo(ctx, t.tx, no)
}

// Get returns the case with id; ENOTFOUND if there is none.
func (cs *Cases) Get(ctx context.Context, id int64) (bot.Case, error) {
	return getCase(ctx, cs.db.db, id)
}

// GetByNo returns the case numbered no; ENOTFOUND if there is none.
func (cs *Cases) GetByNo(ctx context.Context, no string) (bot.Case, error) {
	return getCaseByNo(ctx, cs.db.db, no)
}

func getCase(ctx context.Context, q sqlx.QueryerContext, id int64) (bot.Case, error) {
	const query = `SELECT ` + caseColumns + ` FROM cases WHERE id = ?`
	var rec caseRecord
	if err := sqlx.GetContext(ctx, q, &rec, query, id); errors.Is(err, sql.ErrNoRows) {
		return bot.Case{}, bot.Errorf(bot.ENOTFOUND, "store: no case %d", id)
	} else if err != nil {
		return bot.Case{}, translate(err)
	}
	return rec.toCase(), nil
}

func getCaseByNo(ctx context.Context, q sqlx.QueryerContext, no string) (bot.Case, error) {
	const query = `SELECT ` + caseColumns + ` FROM cases WHERE no = ?`
	var rec caseRecord
	if err := sqlx.GetContext(ctx, q, &rec, query, no); errors.Is(err, sql.ErrNoRows) {
		return bot.Case{}, bot.Errorf(bot.ENOTFOUND, "store: no case %q", no)
	} else if err != nil {
		return bot.Case{}, translate(err)
	}
	return rec.toCase(), nil
}

// UpdateCase writes every column of c but its id, number and creation time,
// with updated_at the transaction's time, if the stored version is still
// c.Version-1: ECONFLICT otherwise (someone else changed the case first, or
// it does not exist), and nothing changes.
func (t *Tx) UpdateCase(ctx context.Context, c bot.Case) error {
	const q = `UPDATE cases SET status = ?, version = ?, source = ?, reporter = ?, receiver = ?,
		resident_name = ?, resident_phone = ?, code = ?, category = ?, plan = ?, dept = ?, size = ?,
		district = ?, community = ?, grid = ?, lat = ?, lng = ?, place = ?, text = ?,
		holder = ?, assignee = ?, partner = ?, due_at = ?, remind_at = ?, overdue = ?,
		escalations = ?, rework = ?, supports = ?, on_spot = ?,
		close_code = ?, close_note = ?, dup_of = ?, closed_at = ?, updated_at = ?
		WHERE id = ? AND version = ?`
	if c.Version < 2 {
		return bot.Errorf(bot.EINVALID, "store: case %d updated to version %d; increment it first", c.ID, c.Version)
	}
	if err := checkCase(c); err != nil {
		return err
	}
	n, err := execOne(ctx, t.tx, q, string(c.Status), c.Version, string(c.Source), c.Reporter, c.Receiver,
		c.ResidentName, c.ResidentPhone, c.Code, c.Category, c.Plan, c.Dept, string(c.Size),
		c.District, c.Community, c.Grid, c.Lat, c.Lng, c.Place, c.Text,
		string(c.Holder), c.Assignee, c.Partner, toMS(c.DueAt), toMS(c.RemindAt), b2i(c.Overdue),
		c.Escalations, c.Rework, c.Supports, b2i(c.OnSpot),
		string(c.CloseCode), c.CloseNote, c.DupOf, toMS(c.ClosedAt), toMS(t.now),
		c.ID, c.Version-1)
	if err != nil {
		return err
	}
	if n != 1 {
		return bot.Errorf(bot.ECONFLICT, "store: case %d is no longer at version %d", c.ID, c.Version-1)
	}
	return nil
}

// Nearby lists the open cases (status not closed) with code whose location
// is within meters of (lat, lng) on a sphere of the Earth's mean radius,
// nearest first (the older first at equal distance). Cases without a
// location (0, 0) are never near; nothing is near a point without one. A
// bounding box narrows the rows in SQL (on the (code, status) index); the
// exact distance is computed here.
func (t *Tx) Nearby(ctx context.Context, code string, lat, lng, meters float64) ([]bot.Case, error) {
	const qBox = `SELECT ` + caseColumns + ` FROM cases
		WHERE code = ? AND status <> 'closed' AND lat BETWEEN ? AND ? AND lng BETWEEN ? AND ?
		AND (lat <> 0 OR lng <> 0)`
	// Near a pole or the antimeridian the box spans every longitude.
	const qBand = `SELECT ` + caseColumns + ` FROM cases
		WHERE code = ? AND status <> 'closed' AND lat BETWEEN ? AND ? AND (lat <> 0 OR lng <> 0)`
	if math.IsNaN(lat) || math.IsNaN(lng) || math.IsNaN(meters) || math.Abs(lat) > 90 || math.Abs(lng) > 180 ||
		meters < 0 || math.IsInf(meters, 0) {
		return nil, bot.Errorf(bot.EINVALID, "store: Nearby(%v, %v, %v): not a point and a distance", lat, lng, meters)
	}
	if lat == 0 && lng == 0 {
		return nil, nil
	}
	box := boundingBox(lat, lng, meters)
	var (
		recs []caseRecord
		err  error
	)
	if box.allLng {
		err = t.tx.SelectContext(ctx, &recs, qBand, code, box.minLat, box.maxLat)
	} else {
		err = t.tx.SelectContext(ctx, &recs, qBox, code, box.minLat, box.maxLat, box.minLng, box.maxLng)
	}
	if err != nil {
		return nil, translate(err)
	}
	type near struct {
		c bot.Case
		d float64
	}
	var found []near
	for _, r := range recs {
		if d := haversine(lat, lng, r.Lat, r.Lng); d <= meters {
			found = append(found, near{r.toCase(), d})
		}
	}
	slices.SortFunc(found, func(a, b near) int {
		if a.d != b.d {
			if a.d < b.d {
				return -1
			}
			return 1
		}
		if c := a.c.CreatedAt.Compare(b.c.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.c.ID, b.c.ID)
	})
	out := make([]bot.Case, len(found))
	for i, n := range found {
		out[i] = n.c
	}
	return out, nil
}

// box is a latitude/longitude range in degrees.
type box struct {
	minLat, maxLat, minLng, maxLng float64
	allLng                         bool // the range covers every longitude
}

// boundingBox returns a range holding every point within meters of (lat, lng)
// on the sphere, slightly widened against rounding. Along a meridian the
// angle is meters/R; the widest longitude difference at that distance is
// asin(sin(δ)/cos(φ)).
func boundingBox(lat, lng, meters float64) box {
	const margin = 1e-9 // degrees, about 0.1 mm
	delta := meters / earthRadiusM
	dLat := delta*180/math.Pi + margin
	b := box{minLat: lat - dLat, maxLat: lat + dLat}
	cosLat := math.Cos(lat * math.Pi / 180)
	if b.minLat <= -90 || b.maxLat >= 90 || delta >= math.Pi/2 || math.Sin(delta) >= cosLat {
		b.allLng = true
		return b
	}
	dLng := math.Asin(math.Sin(delta)/cosLat)*180/math.Pi*(1+1e-9) + margin
	b.minLng, b.maxLng = lng-dLng, lng+dLng
	if b.minLng < -180 || b.maxLng > 180 {
		b.allLng = true // the range wraps around the antimeridian
	}
	return b
}

// haversine returns the great-circle distance in meters between two points
// given in degrees.
func haversine(lat1, lng1, lat2, lng2 float64) float64 {
	const rad = math.Pi / 180
	phi1, phi2 := lat1*rad, lat2*rad
	dPhi := phi2 - phi1
	dLambda := (lng2 - lng1) * rad
	s1, s2 := math.Sin(dPhi/2), math.Sin(dLambda/2)
	a := s1*s1 + math.Cos(phi1)*math.Cos(phi2)*s2*s2
	return 2 * earthRadiusM * math.Asin(math.Sqrt(min(a, 1)))
}

// caseWhere builds the WHERE clause of f and its arguments; it also
// validates the page.
func caseWhere(f bot.CaseFilter) (where string, args []any, err error) {
	if f.Offset < 0 || f.Limit < 0 {
		return "", nil, bot.Errorf(bot.EINVALID, "store: negative offset or limit")
	}
	conds := []string{"1 = 1"}
	add := func(cond string, arg any) {
		conds = append(conds, cond)
		args = append(args, arg)
	}
	if f.District != "" {
		add("district = ?", f.District)
	}
	if f.Status != "" {
		add("status = ?", string(f.Status))
	}
	if f.Open {
		add("status <> ?", string(bot.StClosed))
	}
	if f.Plan != "" {
		add("plan = ?", f.Plan)
	}
	if f.Code != "" {
		add("code = ?", f.Code)
	}
	if f.Overdue != nil {
		add("overdue = ?", b2i(*f.Overdue))
	}
	if !f.From.IsZero() {
		add("created_at >= ?", toMS(f.From))
	}
	if !f.To.IsZero() {
		add("created_at < ?", toMS(f.To))
	}
	if f.Assignee != "" {
		add("assignee = ?", f.Assignee)
	}
	return strings.Join(conds, " AND "), args, nil
}

// pageLimit is f's page size: defaultCases when unset, at most maxCasesLimit.
func pageLimit(f bot.CaseFilter) int {
	if f.Limit == 0 {
		return defaultCases
	}
	return min(f.Limit, maxCasesLimit)
}

// ListCases returns one page of the cases f selects, newest first.
func (t *Tx) ListCases(ctx context.Context, f bot.CaseFilter) ([]bot.Case, error) {
	return listCases(ctx, t.tx, f)
}

func listCases(ctx context.Context, q sqlx.QueryerContext, f bot.CaseFilter) ([]bot.Case, error) {
	const query = `SELECT ` + caseColumns + ` FROM cases WHERE {where}
		ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`
	where, args, err := caseWhere(f)
	if err != nil {
		return nil, err
	}
	var recs []caseRecord
	args = append(args, pageLimit(f), f.Offset)
	if err := sqlx.SelectContext(ctx, q, &recs, strings.Replace(query, "{where}", where, 1), args...); err != nil {
		return nil, translate(err)
	}
	return toCases(recs), nil
}

// List returns one page of the cases f selects, newest first, and how many
// it selects in all, read in one transaction.
func (cs *Cases) List(ctx context.Context, f bot.CaseFilter) ([]bot.Case, int, error) {
	const qCount = `SELECT COUNT(*) FROM cases WHERE {where}`
	where, args, err := caseWhere(f)
	if err != nil {
		return nil, 0, err
	}
	tx, _, err := cs.db.begin(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()

	var total int
	if err := tx.GetContext(ctx, &total, strings.Replace(qCount, "{where}", where, 1), args...); err != nil {
		return nil, 0, translate(err)
	}
	page, err := listCases(ctx, tx, f)
	if err != nil {
		return nil, 0, err
	}
	if err := commit(tx); err != nil {
		return nil, 0, err
	}
	return page, total, nil
}

// Due lists up to limit (100 when not positive) open cases whose reminder
// or deadline is at or before now, the earliest of the two first. A case
// stays due until the caller moves or clears the time that made it due.
func (cs *Cases) Due(ctx context.Context, now time.Time, limit int) ([]bot.Case, error) {
	const q = `SELECT ` + caseColumns + ` FROM cases
		WHERE status <> 'closed' AND ((remind_at > 0 AND remind_at <= ?) OR (due_at > 0 AND due_at <= ?))
		ORDER BY CASE WHEN remind_at > 0 AND (due_at = 0 OR remind_at < due_at) THEN remind_at ELSE due_at END, id
		LIMIT ?`
	if limit <= 0 {
		limit = defaultListLimit
	}
	var recs []caseRecord
	if err := cs.db.db.SelectContext(ctx, &recs, q, toMS(now), toMS(now), limit); err != nil {
		return nil, translate(err)
	}
	return toCases(recs), nil
}
