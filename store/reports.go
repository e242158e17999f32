package store

import (
	"context"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"gridbot/bot"
)

var _ bot.ReportStore = (*Reports)(nil)

// Reports answers the aggregate queries of the digests, packs, assessment
// and ledgers (bot.ReportStore). Each is a GROUP BY over an index range
// (migration 00004 adds the indexes), so a digest or a month's figures read
// the rows of that district or period, not the table.
//
// The queries of one method run one after another outside a transaction: a
// report is a snapshot to the second, not to the row, and a long read must
// not hold SQLite's write lock (its transactions begin IMMEDIATE).
//
// Open means not closed: closed_at = 0 and status <> 'closed' (a case is
// closed exactly when both are set; the first picks the index range, the
// second guards it).
type Reports struct {
	db *DB
}

// Reports returns the report queries.
func (db *DB) Reports() *Reports { return &Reports{db: db} }

// districtCond is the condition and argument that narrow a query to one
// district, or nothing for every district.
func districtCond(col, district string) (string, []any) {
	if district == "" {
		return "", nil
	}
	return " AND " + col + " = ?", []any{district}
}

// byClosed is the index hint that makes a query on a range of closed_at
// read that range of cases_closed: query planners without statistics
// (SQLite) or with their own ideas (MariaDB) may prefer scanning a district
// index whole for a GROUP BY district, which reads every row.
func (rs *Reports) byClosed() string {
	return rs.db.dialect("INDEXED BY cases_closed", "FORCE INDEX (cases_closed)")
}

// districtCount is a count per district.
type districtCount struct {
	District string `db:"district"`
	N        int    `db:"n"`
}

// DayCounts counts, per district (only district's when it is not ""), the
// cases filed and closed within [from, to) and the open ones now: all, due
// within (now, dayEnd] and not yet overdue, overdue (flagged by the clock or
// past the deadline), and waiting for verification. Districts with nothing
// to count are left out.
func (rs *Reports) DayCounts(ctx context.Context, district string, from, to, now, dayEnd time.Time) ([]bot.DayCounts, error) {
	const qFiled = `SELECT district, COUNT(*) AS n FROM cases
		WHERE created_at >= ? AND created_at < ?{district} GROUP BY district`
	// Closures read a range of cases_closed: MariaDB would rather scan a
	// district index whole (and every row), for the GROUP BY's order.
	const qClosed = `SELECT district, COUNT(*) AS n FROM cases {byClosed}
		WHERE closed_at >= ? AND closed_at < ?{district} GROUP BY district`
	const qOpen = `SELECT district, COUNT(*) AS open_n,
		COALESCE(SUM(CASE WHEN overdue = 0 AND due_at > ? AND due_at <= ? THEN 1 ELSE 0 END), 0) AS due_today,
		COALESCE(SUM(CASE WHEN overdue = 1 OR (due_at > 0 AND due_at <= ?) THEN 1 ELSE 0 END), 0) AS overdue_n,
		COALESCE(SUM(CASE WHEN status = 'verifying' THEN 1 ELSE 0 END), 0) AS verifying
		FROM cases WHERE closed_at = 0 AND status <> 'closed'{district} GROUP BY district`
	cond, dargs := districtCond("district", district)
	byDistrict := map[string]*bot.DayCounts{}
	var order []string
	get := func(d string) *bot.DayCounts {
		c := byDistrict[d]
		if c == nil {
			c = &bot.DayCounts{District: d}
			byDistrict[d] = c
			order = append(order, d)
		}
		return c
	}
	if from.Before(to) {
		for _, q := range []struct {
			query string
			set   func(c *bot.DayCounts, n int)
		}{
			{qFiled, func(c *bot.DayCounts, n int) { c.New = n }},
			{qClosed, func(c *bot.DayCounts, n int) { c.Closed = n }},
		} {
			var rows []districtCount
			args := append([]any{toMS(from), toMS(to)}, dargs...)
			query := strings.NewReplacer("{district}", cond, "{byClosed}", rs.byClosed()).Replace(q.query)
			if err := rs.db.db.SelectContext(ctx, &rows, query, args...); err != nil {
				return nil, translate(err)
			}
			for _, r := range rows {
				q.set(get(r.District), r.N)
			}
		}
	}
	var open []struct {
		District  string `db:"district"`
		Open      int    `db:"open_n"`
		DueToday  int    `db:"due_today"`
		Overdue   int    `db:"overdue_n"`
		Verifying int    `db:"verifying"`
	}
	args := append([]any{toMS(now), toMS(dayEnd), toMS(now)}, dargs...)
	if err := rs.db.db.SelectContext(ctx, &open, strings.Replace(qOpen, "{district}", cond, 1), args...); err != nil {
		return nil, translate(err)
	}
	for _, r := range open {
		c := get(r.District)
		c.Open, c.DueToday, c.Overdue, c.Verifying = r.Open, r.DueToday, r.Overdue, r.Verifying
	}
	out := make([]bot.DayCounts, 0, len(order))
	for _, d := range order {
		out = append(out, *byDistrict[d])
	}
	return out, nil
}

// briefRecord is a case as report lists read it: no resident data.
type briefRecord struct {
	ID          int64  `db:"id"`
	No          string `db:"no"`
	District    string `db:"district"`
	Community   string `db:"community"`
	Grid        string `db:"grid"`
	Category    string `db:"category"`
	Status      string `db:"status"`
	Assignee    string `db:"assignee"`
	Partner     string `db:"partner"`
	DueAt       int64  `db:"due_at"`
	Overdue     int    `db:"overdue"`
	Escalations int    `db:"escalations"`
}

// briefColumns are the columns briefRecord reads.
const briefColumns = `id, no, district, community, grid, category, status, assignee, partner, due_at, overdue, escalations`

func (r briefRecord) brief() bot.CaseBrief {
	return bot.CaseBrief{ID: r.ID, No: r.No, District: r.District, Community: r.Community, Grid: r.Grid,
		Category: r.Category, Status: bot.Status(r.Status), Assignee: r.Assignee, Partner: r.Partner,
		DueAt: fromMS(r.DueAt), Overdue: r.Overdue != 0, Escalations: r.Escalations}
}

// Attention lists, for district ("" for every district), up to limit (50
// when not positive) open cases of each kind: overdue at now, the earliest
// deadline first (a deadline moves on each time the case goes overdue); due
// within (now, dayEnd] (24:00 is today's) and not overdue, the earliest
// deadline first; waiting for verification, the longest waiting first. The
// first two read a district's open cases in deadline order straight from
// cases_district_closed.
func (rs *Reports) Attention(ctx context.Context, district string, now, dayEnd time.Time, limit int) (bot.Attention, error) {
	const qOverdue = `SELECT ` + briefColumns + ` FROM cases
		WHERE closed_at = 0 AND status <> 'closed'{district} AND (overdue = 1 OR (due_at > 0 AND due_at <= ?))
		ORDER BY due_at, id LIMIT ?`
	const qDue = `SELECT ` + briefColumns + ` FROM cases
		WHERE closed_at = 0 AND status <> 'closed'{district} AND overdue = 0 AND due_at > ? AND due_at <= ?
		ORDER BY due_at, id LIMIT ?`
	const qVerifying = `SELECT ` + briefColumns + ` FROM cases
		WHERE closed_at = 0 AND status = 'verifying'{district}
		ORDER BY updated_at, id LIMIT ?`
	if limit <= 0 {
		limit = 50
	}
	cond, dargs := districtCond("district", district)
	var out bot.Attention
	for _, q := range []struct {
		query string
		args  []any
		dst   *[]bot.CaseBrief
	}{
		{qOverdue, []any{toMS(now), limit}, &out.Overdue},
		{qDue, []any{toMS(now), toMS(dayEnd), limit}, &out.DueToday},
		{qVerifying, []any{limit}, &out.Verifying},
	} {
		var recs []briefRecord
		args := append(append([]any{}, dargs...), q.args...)
		if err := rs.db.db.SelectContext(ctx, &recs, strings.Replace(q.query, "{district}", cond, 1), args...); err != nil {
			return bot.Attention{}, translate(err)
		}
		for _, r := range recs {
			*q.dst = append(*q.dst, r.brief())
		}
	}
	return out, nil
}

// Period returns each district's figures of [from, to) as of asOf (see
// bot.PeriodFigures and the README):
//
//   - filed: created within the period; on the spot: of those, on_spot;
//   - closed within the period; unsolvable (挂账) of those; on time: of
//     those, not unsolvable, never overdue and closed by the deadline;
//   - open and due at asOf: created before asOf, not closed by asOf
//     (closed_at = 0 or at or after asOf) and past the deadline at asOf:
//     the stored deadline is before asOf, or an overdue step was recorded
//     before it (a case's deadline moves on when it goes overdue);
//   - from the events within the period (refused attempts left out):
//     handled and reply steps, failed verifications, overdue steps, and
//     the cases escalated to the committee or beyond.
func (rs *Reports) Period(ctx context.Context, from, to, asOf time.Time) ([]bot.PeriodFigures, error) {
	const qFiled = `SELECT district, COUNT(*) AS n, COALESCE(SUM(on_spot), 0) AS on_spot FROM cases
		WHERE created_at >= ? AND created_at < ? GROUP BY district`
	const qClosed = `SELECT district, COUNT(*) AS n,
		COALESCE(SUM(CASE WHEN close_code = 'unsolvable' THEN 1 ELSE 0 END), 0) AS unsolvable,
		COALESCE(SUM(CASE WHEN close_code <> 'unsolvable' AND overdue = 0 AND (due_at = 0 OR closed_at <= due_at)
			THEN 1 ELSE 0 END), 0) AS on_time
		FROM cases {byClosed} WHERE closed_at >= ? AND closed_at < ? GROUP BY district`
	// The overdue step is looked up by case (case_events_case): left to
	// itself, SQLite would scan every overdue step by action for each case.
	const pastDue = ` AND created_at < ? AND ((due_at > 0 AND due_at < ?) OR (overdue = 1 AND EXISTS (
		SELECT 1 FROM case_events e {byCase} WHERE e.case_id = cases.id AND e.action = 'overdue' AND e.denied = 0 AND e.at < ?)))`
	const qOpenNow = `SELECT district, COUNT(*) AS n FROM cases
		WHERE closed_at = 0 AND status <> 'closed'` + pastDue + ` GROUP BY district`
	// Closed at or after asOf: a range of cases_closed too (SQLite would
	// also rather scan a district index whole).
	const qClosedLater = `SELECT district, COUNT(*) AS n FROM cases {byClosed}
		WHERE closed_at >= ?` + pastDue + ` GROUP BY district`
	byCase := rs.db.dialect("INDEXED BY case_events_case", "FORCE INDEX (case_events_case)")
	byClosed := rs.byClosed()
	// Events are counted per case first (from case_events_action_at
	// alone), then per district: one lookup of a case's district per case,
	// not per event.
	const qEvents = `SELECT c.district AS district, SUM(x.handled) AS handled, SUM(x.reworked) AS reworked,
		SUM(x.overdue_n) AS overdue_n, SUM(x.escalated) AS escalated
		FROM (SELECT case_id,
			SUM(CASE WHEN action IN ('handled', 'reply') THEN 1 ELSE 0 END) AS handled,
			SUM(CASE WHEN action = 'verify_fail' THEN 1 ELSE 0 END) AS reworked,
			SUM(CASE WHEN action = 'overdue' THEN 1 ELSE 0 END) AS overdue_n,
			MAX(CASE WHEN action IN ('escalate', 'escalate_up') THEN 1 ELSE 0 END) AS escalated
			FROM case_events
			WHERE action IN ('handled', 'reply', 'verify_fail', 'overdue', 'escalate', 'escalate_up')
			AND at >= ? AND at < ? AND denied = 0
			GROUP BY case_id) x
		JOIN cases c ON c.id = x.case_id
		GROUP BY c.district`
	if asOf.After(to) {
		asOf = to
	}
	figs := map[string]*bot.PeriodFigures{}
	var order []string
	get := func(d string) *bot.PeriodFigures {
		f := figs[d]
		if f == nil {
			f = &bot.PeriodFigures{District: d}
			figs[d] = f
			order = append(order, d)
		}
		return f
	}
	db := rs.db.db

	var filed []struct {
		District string `db:"district"`
		N        int    `db:"n"`
		OnSpot   int    `db:"on_spot"`
	}
	if err := db.SelectContext(ctx, &filed, qFiled, toMS(from), toMS(to)); err != nil {
		return nil, translate(err)
	}
	for _, r := range filed {
		f := get(r.District)
		f.Filed, f.OnSpot = r.N, r.OnSpot
	}

	var closed []struct {
		District   string `db:"district"`
		N          int    `db:"n"`
		Unsolvable int    `db:"unsolvable"`
		OnTime     int    `db:"on_time"`
	}
	if err := db.SelectContext(ctx, &closed, strings.Replace(qClosed, "{byClosed}", byClosed, 1), toMS(from), toMS(to)); err != nil {
		return nil, translate(err)
	}
	for _, r := range closed {
		f := get(r.District)
		f.Closed, f.Unsolvable, f.OnTime = r.N, r.Unsolvable, r.OnTime
	}

	for _, q := range []struct {
		query string
		args  []any
	}{
		{qOpenNow, []any{toMS(asOf), toMS(asOf), toMS(asOf)}},
		{qClosedLater, []any{toMS(asOf), toMS(asOf), toMS(asOf), toMS(asOf)}},
	} {
		var rows []districtCount
		query := strings.NewReplacer("{byCase}", byCase, "{byClosed}", byClosed).Replace(q.query)
		if err := db.SelectContext(ctx, &rows, query, q.args...); err != nil {
			return nil, translate(err)
		}
		for _, r := range rows {
			get(r.District).OpenDue += r.N
		}
	}

	var events []struct {
		District  string `db:"district"`
		Handled   int    `db:"handled"`
		Reworked  int    `db:"reworked"`
		Overdue   int    `db:"overdue_n"`
		Escalated int    `db:"escalated"`
	}
	if err := db.SelectContext(ctx, &events, qEvents, toMS(from), toMS(to)); err != nil {
		return nil, translate(err)
	}
	for _, r := range events {
		f := get(r.District)
		f.Handled, f.Reworked, f.OverdueEvents, f.Escalated = r.Handled, r.Reworked, r.Overdue, r.Escalated
	}

	out := make([]bot.PeriodFigures, 0, len(order))
	for _, d := range order {
		out = append(out, *figs[d])
	}
	return out, nil
}

// Filed counts the cases filed within [from, to) by district, source and
// plan category.
func (rs *Reports) Filed(ctx context.Context, from, to time.Time) ([]bot.FiledCount, error) {
	const q = `SELECT district, source, plan, COUNT(*) AS n FROM cases
		WHERE created_at >= ? AND created_at < ? GROUP BY district, source, plan`
	var rows []struct {
		District string `db:"district"`
		Source   string `db:"source"`
		Plan     string `db:"plan"`
		N        int    `db:"n"`
	}
	if err := rs.db.db.SelectContext(ctx, &rows, q, toMS(from), toMS(to)); err != nil {
		return nil, translate(err)
	}
	out := make([]bot.FiledCount, len(rows))
	for i, r := range rows {
		out[i] = bot.FiledCount{District: r.District, Source: bot.Source(r.Source), Plan: r.Plan, N: r.N}
	}
	return out, nil
}

// Hotspots lists the (district, grid, code) with at least min cases filed
// within [from, to), the most first. Cases without a grid are left out.
func (rs *Reports) Hotspots(ctx context.Context, from, to time.Time, min int) ([]bot.Hotspot, error) {
	const q = `SELECT district, grid, code, MAX(category) AS category, COUNT(*) AS n FROM cases
		WHERE created_at >= ? AND created_at < ? AND grid <> ''
		GROUP BY district, grid, code HAVING COUNT(*) >= ?
		ORDER BY n DESC, district, grid, code`
	var rows []struct {
		District string `db:"district"`
		Grid     string `db:"grid"`
		Code     string `db:"code"`
		Category string `db:"category"`
		N        int    `db:"n"`
	}
	if err := rs.db.db.SelectContext(ctx, &rows, q, toMS(from), toMS(to), max(min, 1)); err != nil {
		return nil, translate(err)
	}
	out := make([]bot.Hotspot, len(rows))
	for i, r := range rows {
		out[i] = bot.Hotspot{District: r.District, Grid: r.Grid, Code: r.Code, Category: r.Category, N: r.N}
	}
	return out, nil
}

// LedgerCases calls fn with the cases filed within [from, to), oldest first
// (by creation, then id), in batches of at most batch (500 when not
// positive), each case with its events oldest first. Each batch is read
// whole before fn runs, so fn may use the store.
func (rs *Reports) LedgerCases(ctx context.Context, from, to time.Time, batch int, fn func([]bot.LedgerCase) error) error {
	const qPage = `SELECT ` + caseColumns + ` FROM cases
		WHERE created_at >= ? AND created_at < ? AND (created_at > ? OR (created_at = ? AND id > ?))
		ORDER BY created_at, id LIMIT ?`
	const qEvents = `SELECT id, case_id, at, actor, action, from_status, to_status, note, photos, ekey, denied
		FROM case_events WHERE case_id IN (?) ORDER BY case_id, at, id`
	if batch <= 0 {
		batch = 500
	}
	lastAt, lastID := toMS(from)-1, int64(0)
	for {
		var recs []caseRecord
		if err := rs.db.db.SelectContext(ctx, &recs, qPage, toMS(from), toMS(to), lastAt, lastAt, lastID, batch); err != nil {
			return translate(err)
		}
		if len(recs) == 0 {
			return nil
		}
		page := make([]bot.LedgerCase, len(recs))
		ids := make([]int64, len(recs))
		index := make(map[int64]int, len(recs))
		for i, r := range recs {
			page[i] = bot.LedgerCase{Case: r.toCase()}
			ids[i] = r.ID
			index[r.ID] = i
		}
		q, args, err := sqlx.In(qEvents, ids)
		if err != nil {
			return bot.Errorf(bot.EINTERNAL, "store: ledger events: %v", err)
		}
		var evs []eventRecord
		if err := rs.db.db.SelectContext(ctx, &evs, q, args...); err != nil {
			return translate(err)
		}
		for _, r := range evs {
			e, err := r.event()
			if err != nil {
				return err
			}
			i := index[e.CaseID]
			page[i].Events = append(page[i].Events, e)
		}
		if err := fn(page); err != nil {
			return err
		}
		last := recs[len(recs)-1]
		lastAt, lastID = last.CreatedAt, last.ID
		if len(recs) < batch {
			return nil
		}
	}
}

// sentChunk is how many keys one Sent query asks about.
const sentChunk = 500

// Sent reports which of keys are in the outbox already (in any state).
func (rs *Reports) Sent(ctx context.Context, keys []string) (map[string]bool, error) {
	const q = `SELECT okey FROM outbox WHERE okey IN (?)`
	out := map[string]bool{}
	for start := 0; start < len(keys); start += sentChunk {
		chunk := keys[start:min(start+sentChunk, len(keys))]
		query, args, err := sqlx.In(q, chunk)
		if err != nil {
			return nil, bot.Errorf(bot.EINTERNAL, "store: sent keys: %v", err)
		}
		var found []string
		if err := rs.db.db.SelectContext(ctx, &found, query, args...); err != nil {
			return nil, translate(err)
		}
		for _, k := range found {
			out[k] = true
		}
	}
	return out, nil
}
