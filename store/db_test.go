package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"gridbot/bot"
)

func TestOpenSQLite(t *testing.T) {
	clk := newFakeClock()
	path := filepath.Join(t.TempDir(), "nested", "dir", "gridbot.db")
	db, err := Open(t.Context(), Options{Driver: DriverSQLite, SQLitePath: path, Now: clk.Now})
	must(t, err)
	defer db.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file: %v", err)
	}
	if db.Driver() != DriverSQLite {
		t.Fatalf("Driver() = %q", db.Driver())
	}
	must(t, db.Ping(t.Context()))
	if !db.Now().Equal(clk.Now()) {
		t.Fatalf("Now() = %v, want the injected clock's %v", db.Now(), clk.Now())
	}
	// The pragmas of the DSN took effect (mattn-style ones would not have).
	var mode string
	var busy, fk int
	must(t, db.db.GetContext(t.Context(), &mode, `PRAGMA journal_mode`))
	must(t, db.db.GetContext(t.Context(), &busy, `PRAGMA busy_timeout`))
	must(t, db.db.GetContext(t.Context(), &fk, `PRAGMA foreign_keys`))
	if mode != "wal" || busy != 5000 || fk != 0 {
		t.Fatalf("journal_mode=%s busy_timeout=%d foreign_keys=%d; want wal, 5000, 0", mode, busy, fk)
	}
	// Open does not migrate unless asked to.
	var n int
	must(t, db.db.GetContext(t.Context(), &n, `SELECT COUNT(*) FROM sqlite_master WHERE name = 'inbox'`))
	if n != 0 {
		t.Fatal("Open migrated without Options.Migrate")
	}
	current, latest, err := db.MigrationVersion(t.Context())
	must(t, err)
	if current != 0 || latest < 1 {
		t.Fatalf("version %d of %d before Migrate", current, latest)
	}
}

func TestOpenDefaultsToTheSystemClock(t *testing.T) {
	db, err := Open(t.Context(), Options{Driver: DriverSQLite, SQLitePath: filepath.Join(t.TempDir(), "x.db")})
	must(t, err)
	defer db.Close()
	if d := time.Since(db.Now()); d < 0 || d > time.Minute {
		t.Fatalf("Now() is %v away from the system clock", d)
	}
}

func TestOpenRejectsBadOptions(t *testing.T) {
	for _, opts := range []Options{
		{Driver: "postgres"},
		{Driver: DriverSQLite},
		{Driver: DriverSQLite, SQLitePath: "data/x.db?_pragma=foo"},
		{Driver: DriverMySQL},
		{Driver: DriverMySQL, DSN: "user:secret@nonsense(((/"},
	} {
		_, err := Open(t.Context(), opts)
		wantCode(t, err, bot.EINVALID)
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("error %q shows the DSN's password", err)
		}
	}
}

func TestMySQLDSN(t *testing.T) {
	got, err := mysqlDSN("gridbot:pw@tcp(127.0.0.1:3306)/gridbot?loc=Local&timeout=5s")
	must(t, err)
	cfg, err := mysql.ParseDSN(got)
	must(t, err)
	if !cfg.ParseTime || cfg.Loc != time.UTC || !cfg.ClientFoundRows {
		t.Fatalf("DSN %q: parseTime=%v loc=%v clientFoundRows=%v; want true, UTC, true",
			got, cfg.ParseTime, cfg.Loc, cfg.ClientFoundRows)
	}
	if cfg.User != "gridbot" || cfg.Passwd != "pw" || cfg.Addr != "127.0.0.1:3306" || cfg.DBName != "gridbot" ||
		cfg.Timeout != 5*time.Second {
		t.Fatalf("DSN %q lost the caller's settings", got)
	}
}

func TestOpenMySQL(t *testing.T) {
	dsn := requireEnv(t, envMySQLDSN, exampleMySQLDSN)
	db, err := Open(t.Context(), Options{Driver: DriverMySQL, DSN: dsn})
	must(t, err)
	defer db.Close()
	if db.Driver() != DriverMySQL {
		t.Fatalf("Driver() = %q", db.Driver())
	}
	must(t, db.Ping(t.Context()))
}

func TestOpenMySQLUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	// Port 1 on loopback refuses at once.
	_, err := Open(ctx, Options{Driver: DriverMySQL, DSN: "u:p@tcp(127.0.0.1:1)/x?timeout=2s"})
	wantCode(t, err, bot.EUNAVAILABLE)
}

func TestTranslate(t *testing.T) {
	e := openSQLite(t)
	_, err := e.db.db.ExecContext(t.Context(), `INSERT INTO leases (name) VALUES ('x')`)
	must(t, err)
	_, dupErr := e.db.db.ExecContext(t.Context(), `INSERT INTO leases (name) VALUES ('x')`)
	if dupErr == nil {
		t.Fatal("duplicate primary key accepted")
	}
	_, dupUnique := e.db.db.ExecContext(t.Context(),
		`INSERT INTO inbox (dedupe_key, payload) VALUES ('k', x''), ('k', x'')`)

	deadlock := &mysql.MySQLError{Number: 1213, Message: "Deadlock found"}
	for _, tc := range []struct {
		name string
		err  error
		code string
	}{
		{"nil", nil, ""},
		{"sqlite primary key", dupErr, bot.ECONFLICT},
		{"sqlite unique", dupUnique, bot.ECONFLICT},
		{"mysql duplicate entry", &mysql.MySQLError{Number: 1062, Message: "Duplicate entry"}, bot.ECONFLICT},
		{"mysql deadlock", deadlock, bot.EUNAVAILABLE},
		{"mysql syntax", &mysql.MySQLError{Number: 1064}, bot.EINTERNAL},
		{"bad connection", driver.ErrBadConn, bot.EUNAVAILABLE},
		{"invalid connection", mysql.ErrInvalidConn, bot.EUNAVAILABLE},
		{"deadline", context.DeadlineExceeded, bot.EUNAVAILABLE},
		{"no rows", sql.ErrNoRows, bot.ENOTFOUND},
		{"already translated", bot.Errorf(bot.EINVALID, "x"), bot.EINVALID},
		{"other", errors.New("something"), bot.EINTERNAL},
	} {
		got := translate(tc.err)
		if code := bot.ErrorCode(got); code != tc.code {
			t.Errorf("%s: code %q (%v), want %q", tc.name, code, got, tc.code)
		}
		if tc.err != nil && !errors.Is(got, tc.err) {
			t.Errorf("%s: the driver error left the chain", tc.name)
		}
	}
	if !retryable(translate(deadlock)) || retryable(translate(&mysql.MySQLError{Number: 1062})) {
		t.Error("retryable: want true for a deadlock only")
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abc", 3, "abc"},
		{"abcdef", 3, "abc"},
		{"城市管理进社区", 4, "城市管理"},
		{"", 3, ""},
	} {
		if got := truncate(tc.in, tc.n); got != tc.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestNewSQLKVRejectsOtherTables(t *testing.T) {
	e := openSQLite(t)
	_, err := NewSQLKV(e.db, "inbox")
	wantCode(t, err, bot.EINVALID)
}
