package store

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"gridbot/bot"
	"gridbot/bot/bottest"
	"gridbot/bot/roster"
	"gridbot/templates"
)

// The report benchmarks run on a city: 1,000,000 cases over the year to
// 1 December 2026 in 200 districts (8 grids, 2 communities, 4 guidance
// officers each), with their events, and a year of patrols and visits in
// memory. The data is made once with multi-row INSERTs in one transaction
// and kept: a SQLite file under os.TempDir() and, with
// GRIDBOT_TEST_MYSQL_DSN, a database gridbot_test_bench_reports_vN, both
// named by benchVersion (change it when the generator changes).
//
//	go test ./store -run '^$' -bench 'Million' -benchtime 20x
const (
	benchVersion   = 3
	benchCases     = 1_000_000
	benchDistricts = 200
	benchGrids     = 8 // per district
)

// benchNow is when the benchmarks run: the morning of 1 December 2026.
var benchNow = time.Date(2026, 12, 1, 8, 30, 0, 0, bot.Shanghai())

// benchRoster is a city of benchDistricts districts.
func benchRoster() *roster.Roster {
	r := &roster.Roster{Subdistrict: roster.Subdistrict{Name: "基准市", Code: "BM"}}
	for d := range benchDistricts {
		id := fmt.Sprintf("d%03d", d)
		r.Districts = append(r.Districts, roster.District{ID: id, Name: fmt.Sprintf("第%d管区", d+1)})
		var comms []string
		for c := range 2 {
			cid := fmt.Sprintf("%s-c%d", id, c)
			comms = append(comms, cid)
			r.Communities = append(r.Communities, roster.Community{ID: cid, Name: fmt.Sprintf("第%d社区", d*2+c+1), District: id})
		}
		for g := range benchGrids {
			gid := fmt.Sprintf("%s-g%d", id, g)
			r.Grids = append(r.Grids, roster.Grid{ID: gid, Name: fmt.Sprintf("第%d网格", d*benchGrids+g+1), District: id, Community: comms[g%2]})
			r.People = append(r.People, roster.Person{UserID: gid + "-i", Name: fmt.Sprintf("网格员%d", d*benchGrids+g+1),
				Roles: []roster.Role{roster.RoleInspector}, Grid: gid})
		}
		r.People = append(r.People,
			roster.Person{UserID: id + "-chief", Name: fmt.Sprintf("站长%d", d+1), Roles: []roster.Role{roster.RoleChief}, District: id},
			roster.Person{UserID: id + "-deputy", Name: fmt.Sprintf("副站长%d", d+1), Roles: []roster.Role{roster.RoleDeputy}, District: id})
		for i, dept := range roster.Depts() {
			r.People = append(r.People, roster.Person{UserID: fmt.Sprintf("%s-o%d", id, i), Name: fmt.Sprintf("指导员%d", d*4+i+1),
				Roles: []roster.Role{roster.RoleGuidance}, District: id, Dept: dept, Communities: comms})
		}
		r.Chats = append(r.Chats, roster.Chat{ID: "BM" + id, Name: id, District: id, Robot: "robot-" + id})
	}
	r.Chats = append(r.Chats, roster.Chat{ID: "BMcommittee", Name: "committee", Robot: "robot-committee"})
	return r
}

// benchRhythm is a year of patrols (most grids, most days) and visits (each
// duty about twice a week), in memory.
func benchRhythm(r *roster.Roster) *bottest.Rhythm {
	rh := &bottest.Rhythm{}
	rng := rand.New(rand.NewPCG(1, 2))
	zone := bot.Shanghai()
	start := benchNow.AddDate(-1, 0, 0)
	var patrols []bot.Patrol
	var visits []bot.Visit
	for day := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, zone); day.Before(benchNow); day = day.AddDate(0, 0, 1) {
		label := day.Format(time.DateOnly)
		for _, g := range r.Grids {
			if rng.IntN(10) > 0 {
				at := day.Add(8*time.Hour + time.Duration(rng.IntN(120))*time.Minute)
				patrols = append(patrols, bot.Patrol{UserID: g.ID + "-i", Grid: g.ID, District: g.District, Day: label,
					StartedAt: at, EndedAt: at.Add(time.Hour), Counts: true, Source: "chat"})
			}
		}
		for _, p := range r.People {
			if p.HasRole(roster.RoleGuidance) && rng.IntN(3) == 0 {
				c := p.Communities[rng.IntN(len(p.Communities))]
				visits = append(visits, bot.Visit{UserID: p.UserID, District: p.District, Community: c, Day: label, At: day.Add(10 * time.Hour)})
			}
		}
	}
	rh.AddPatrols(patrols...)
	rh.AddVisits(visits...)
	return rh
}

// benchCaseColumns are the columns the bulk insert writes.
const benchCaseColumns = `id, no, status, version, source, reporter, receiver, resident_name, resident_phone,
	code, category, plan, dept, size, district, community, grid, lat, lng, place, text,
	holder, assignee, partner, due_at, remind_at, overdue, escalations, rework, supports, on_spot,
	close_code, close_note, dup_of, closed_at, created_at, updated_at`

const benchEventColumns = `case_id, at, actor, action, from_status, to_status, note, photos, ekey, denied`

// bulk collects rows and inserts them many at a time.
type bulk struct {
	tx      *sql.Tx
	prefix  string
	per     int // values per row
	rows    int // rows per statement
	args    []any
	pending int
}

func (b *bulk) add(ctx context.Context, vals ...any) error {
	b.args = append(b.args, vals...)
	b.pending++
	if b.pending == b.rows {
		return b.flush(ctx)
	}
	return nil
}

func (b *bulk) flush(ctx context.Context) error {
	if b.pending == 0 {
		return nil
	}
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", b.per), ",") + ")"
	q := b.prefix + strings.TrimSuffix(strings.Repeat(row+",", b.pending), ",")
	if _, err := b.tx.ExecContext(ctx, q, b.args...); err != nil {
		return err
	}
	b.args, b.pending = b.args[:0], 0
	return nil
}

// fillBench writes the million cases and their events into db, in one
// transaction. Cases are spread evenly over the districts and the year;
// each is closed after a few hours (small) or days (big) unless that is
// after benchNow; a late one goes overdue (an overdue event, the deadline
// moved on); some are reworked or escalated.
func fillBench(ctx context.Context, db *DB) error {
	r := benchRoster()
	p := bot.DefaultPolicy()
	rng := rand.New(rand.NewPCG(benchVersion, 42))
	tx, err := db.db.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	cases := &bulk{tx: tx, prefix: "INSERT INTO cases (" + benchCaseColumns + ") VALUES ", per: 37, rows: 400}
	events := &bulk{tx: tx, prefix: "INSERT INTO case_events (" + benchEventColumns + ") VALUES ", per: 10, rows: 1000}
	start := benchNow.AddDate(-1, 0, 0)
	span := benchNow.Sub(start)
	seq := map[string]int{}
	ev := func(id int64, at time.Time, actor string, action bot.Action) error {
		return events.add(ctx, id, toMS(at), actor, string(action), "", "", "", "", "", 0)
	}
	for i := range benchCases {
		id := int64(i + 1)
		created := start.Add(time.Duration(float64(span) * float64(i) / benchCases)).Truncate(time.Second)
		d := i % benchDistricts
		g := r.Grids[d*benchGrids+rng.IntN(benchGrids)]
		cat := genCategories[rng.IntN(len(genCategories))]
		day := created.In(p.Zone).Format("20060102")
		seq[day]++
		no := fmt.Sprintf("BM-%s-%05d", day, seq[day])
		source, resident, phone := bot.SrcPatrol, "", ""
		if x := rng.IntN(10); x < 2 {
			source, resident, phone = bot.SrcResident, "居民", fmt.Sprintf("139%08d", rng.IntN(1e8))
		} else if x < 3 {
			source = bot.SrcHotline
		}
		reporter := g.ID + "-i"
		due := p.Due(cat.size, created)
		delay := time.Duration(2+rng.IntN(28)) * time.Hour
		if cat.size == bot.Big {
			delay = time.Duration(24+rng.IntN(9*24)) * time.Hour
		}
		end := created.Add(delay)
		if err := ev(id, created, reporter, bot.ActReport); err != nil {
			return err
		}
		overdue, escalations, rework := 0, 0, 0
		for ; due.Before(end) && due.Before(benchNow); due = p.Due(cat.size, due) {
			overdue, escalations = 1, escalations+1
			if err := ev(id, due, "system", bot.ActOverdue); err != nil {
				return err
			}
		}
		if rng.IntN(10) == 0 {
			if err := ev(id, created.Add(30*time.Minute), g.District+"-chief", bot.ActEscalate); err != nil {
				return err
			}
		}
		status, closedAt, code, assignee, holder := string(bot.StClosed), time.Time{}, "", "", ""
		if end.Before(benchNow) {
			closedAt, code = end, string(bot.CloseResolved)
			if x := rng.IntN(100); x < 4 {
				code = string(bot.CloseUnsolvable)
			} else if x < 7 {
				code = string(bot.CloseNotOurs)
			}
			if code == string(bot.CloseResolved) {
				if rng.IntN(8) == 0 {
					rework = 1
					if err := ev(id, end.Add(-3*time.Hour), assignee, bot.ActHandled); err != nil {
						return err
					}
					if err := ev(id, end.Add(-2*time.Hour), reporter, bot.ActVerifyFail); err != nil {
						return err
					}
				}
				if err := ev(id, end.Add(-time.Hour), g.District+"-chief", bot.ActHandled); err != nil {
					return err
				}
				if err := ev(id, end, reporter, bot.ActVerifyOK); err != nil {
					return err
				}
			} else if err := ev(id, end, g.District+"-chief", bot.ActClose); err != nil {
				return err
			}
		} else {
			switch rng.IntN(4) {
			case 0:
				status = string(bot.StReported)
			case 1:
				status, assignee = string(bot.StStation), g.District+"-chief"
			case 2:
				status, assignee = string(bot.StGuidance), g.District+"-o0"
			default:
				status, holder = string(bot.StVerifying), string(bot.StStation)
			}
		}
		updated := created
		if !closedAt.IsZero() {
			updated = closedAt
		}
		if err := cases.add(ctx, id, no, status, 2, string(source), reporter, "", resident, phone,
			cat.code, cat.name, cat.plan, cat.dept, string(cat.size), g.District, g.Community, g.ID, 36.7, 117.1, g.Name, cat.name,
			holder, assignee, "", toMS(due), 0, overdue, escalations, rework, 0, 0,
			code, "", "", toMS(closedAt), toMS(created), toMS(updated)); err != nil {
			return err
		}
	}
	if err := cases.flush(ctx); err != nil {
		return err
	}
	if err := events.flush(ctx); err != nil {
		return err
	}
	return tx.Commit()
}

// benchEnv is the million-case store of a dialect and the reporter on it.
type benchEnv struct {
	db  *DB
	rep *bot.Reporter
}

var benchOnce struct {
	sync.Mutex
	envs map[string]*benchEnv
}

// openBench opens (making it the first time) the million-case store of
// dialect.
func openBench(b *testing.B, dialect string) *benchEnv {
	b.Helper()
	if testing.Short() {
		b.Skip("the million-case benchmarks need the data set; not in -short")
	}
	benchOnce.Lock()
	defer benchOnce.Unlock()
	if e := benchOnce.envs[dialect]; e != nil {
		return e
	}
	ctx := context.Background()
	var db *DB
	var err error
	switch dialect {
	case DriverSQLite:
		db, err = openBenchSQLite(b, ctx)
	default:
		db, err = openBenchMySQL(b, ctx)
	}
	if err != nil {
		b.Fatal(err)
	}
	r := benchRoster()
	rep := &bot.Reporter{Store: db.Reports(), Rhythm: benchRhythm(r), Outbox: db.Outbox(), Leases: db.Leases(),
		T: templates.MustLoad(), Roster: r, Clock: bot.ClockFunc(func() time.Time { return benchNow }), Zone: bot.Shanghai(), Owner: "bench"}
	e := &benchEnv{db: db, rep: rep}
	if benchOnce.envs == nil {
		benchOnce.envs = map[string]*benchEnv{}
	}
	benchOnce.envs[dialect] = e
	return e
}

func openBenchSQLite(b *testing.B, ctx context.Context) (*DB, error) {
	path := filepath.Join(os.TempDir(), fmt.Sprintf("gridbot-bench-reports-v%d.db", benchVersion))
	if _, err := os.Stat(path); err != nil {
		tmp := path + ".building"
		os.Remove(tmp)
		os.Remove(tmp + "-wal")
		os.Remove(tmp + "-shm")
		b.Logf("making %d cases in %s (once)…", benchCases, path)
		began := time.Now()
		db, err := Open(ctx, Options{Driver: DriverSQLite, SQLitePath: tmp, Migrate: true})
		if err != nil {
			return nil, err
		}
		if _, err := db.db.ExecContext(ctx, `PRAGMA synchronous = OFF`); err != nil {
			return nil, err
		}
		if err := fillBench(ctx, db); err != nil {
			db.Close()
			return nil, err
		}
		if _, err := db.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			return nil, err
		}
		db.Close()
		if err := os.Rename(tmp, path); err != nil {
			return nil, err
		}
		b.Logf("made in %v", time.Since(began).Round(time.Second))
	}
	return Open(ctx, Options{Driver: DriverSQLite, SQLitePath: path, Migrate: true, Now: func() time.Time { return benchNow }})
}

func openBenchMySQL(b *testing.B, ctx context.Context) (*DB, error) {
	base := os.Getenv(envMySQLDSN)
	if base == "" {
		if os.Getenv("CI") == "true" {
			b.Fatalf("CI=true but %s is not set", envMySQLDSN)
		}
		b.Skipf("%s not set", envMySQLDSN)
	}
	cfg, err := mysql.ParseDSN(base)
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("gridbot_test_bench_reports_v%d", benchVersion)
	admin := *cfg
	admin.DBName = ""
	adb, err := sql.Open("mysql", admin.FormatDSN())
	if err != nil {
		return nil, err
	}
	defer adb.Close()
	var ready int
	err = adb.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = 'bench_ready'`, name).Scan(&ready)
	if err != nil {
		return nil, err
	}
	cfg.DBName = name
	if ready == 0 {
		b.Logf("making %d cases in MySQL database %s (once)…", benchCases, name)
		began := time.Now()
		if _, err := adb.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
			return nil, err
		}
		if _, err := adb.ExecContext(ctx, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4"); err != nil {
			return nil, err
		}
		db, err := Open(ctx, Options{Driver: DriverMySQL, DSN: cfg.FormatDSN(), Migrate: true})
		if err != nil {
			return nil, err
		}
		if err := fillBench(ctx, db); err != nil {
			db.Close()
			return nil, err
		}
		if _, err := db.db.ExecContext(ctx, `CREATE TABLE bench_ready (v INT)`); err != nil {
			return nil, err
		}
		if _, err := db.db.ExecContext(ctx, `ANALYZE TABLE cases, case_events`); err != nil {
			return nil, err
		}
		db.Close()
		b.Logf("made in %v", time.Since(began).Round(time.Second))
	}
	return Open(ctx, Options{Driver: DriverMySQL, DSN: cfg.FormatDSN(), Migrate: true, Now: func() time.Time { return benchNow }})
}

// forEachBench runs bench on SQLite and, with GRIDBOT_TEST_MYSQL_DSN, MySQL.
func forEachBench(b *testing.B, bench func(b *testing.B, e *benchEnv)) {
	b.Run("sqlite", func(b *testing.B) { bench(b, openBench(b, DriverSQLite)) })
	b.Run("mysql", func(b *testing.B) { bench(b, openBench(b, DriverMySQL)) })
}

// BenchmarkDigestMillion makes one district's daily digest (its counts,
// its lists, yesterday's patrols, this week's visits, rendered), the
// committee's, and every chat's in one run as the reporter sends them.
func BenchmarkDigestMillion(b *testing.B) {
	forEachBench(b, func(b *testing.B, e *benchEnv) {
		ctx := context.Background()
		chats := e.rep.Roster.Chats
		b.Run("district", func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				if _, err := e.rep.Digest(ctx, chats[i%benchDistricts], benchNow); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("committee", func(b *testing.B) {
			for b.Loop() {
				if _, err := e.rep.Digest(ctx, chats[len(chats)-1], benchNow); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("all_chats", func(b *testing.B) {
			for b.Loop() {
				run := &bot.Reporter{Store: e.rep.Store, Rhythm: e.rep.Rhythm, T: e.rep.T, Roster: e.rep.Roster, Zone: e.rep.Zone}
				for _, c := range chats {
					if _, err := run.Digest(ctx, c, benchNow); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/float64(len(chats)), "ms/chat")
		})
	})
}

// BenchmarkAssessmentMillion computes November's assessment of the 200
// districts: the month's figures, hotspots, patrol, visit and activity
// duties, scores and ranks.
func BenchmarkAssessmentMillion(b *testing.B) {
	forEachBench(b, func(b *testing.B, e *benchEnv) {
		nov, _ := bot.ParseMonth("2026-11", bot.Shanghai())
		for b.Loop() {
			a, err := e.rep.Assessment(context.Background(), nov, benchNow)
			if err != nil {
				b.Fatal(err)
			}
			if len(a.Rows) != benchDistricts || a.Total.Figures.Filed < 80_000 {
				b.Fatalf("%d rows, %d filed", len(a.Rows), a.Total.Figures.Filed)
			}
		}
	})
}
