// Package store implements bot's storage interfaces on SQL (SQLite through
// modernc.org/sqlite, MySQL and TiDB through go-sql-driver/mysql, both with
// sqlx) and the key-value store on Redis as well.
//
// Every public method owns its transaction (one that runs a single statement
// lets it commit on its own); SQL is spelled out in a const beside the method
// that runs it and uses ? placeholders, which both drivers take; driver
// errors pass through translate, the one place that turns them into bot
// error codes. Times are stored as Unix milliseconds in UTC, taken from the
// injected clock once per call.
//
// The schema is kept portable to TiDB: no foreign keys, triggers or
// procedures, no SKIP LOCKED, and ids only break ties in orderings (TiDB
// hands them out in per-server ranges).
package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"gridbot/bot"
)

// Drivers Options.Driver accepts.
const (
	DriverSQLite = "sqlite"
	DriverMySQL  = "mysql"
)

// sqlitePragmas are the connection parameters of every SQLite connection, in
// modernc.org/sqlite's syntax (mattn-style _journal_mode=WAL would be
// silently ignored). busy_timeout is per connection, so it belongs here.
const sqlitePragmas = "_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=foreign_keys(0)&_txlock=immediate"

// MySQL pool limits. Several instances share one server, so each keeps its
// pool small; connections are recycled before server or proxy timeouts.
const (
	mysqlMaxOpenConns    = 20
	mysqlMaxIdleConns    = 10
	mysqlConnMaxLifetime = 5 * time.Minute
	mysqlConnMaxIdleTime = time.Minute
)

// Options configure Open.
type Options struct {
	// Driver is DriverSQLite or DriverMySQL.
	Driver string
	// DSN is the go-sql-driver/mysql data source name (MySQL only).
	// parseTime=true, loc=UTC and clientFoundRows=true are added to it.
	DSN string
	// SQLitePath is the database file (SQLite only); its directory is created.
	SQLitePath string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Migrate applies the embedded migrations after opening.
	Migrate bool
}

// DB is an open SQL store. Its accessors return the implementations of
// bot's storage interfaces; all share the one connection pool.
type DB struct {
	db     *sqlx.DB
	driver string
	now    func() time.Time
}

// Open connects to the database described by opts and checks the connection.
// It migrates only when opts.Migrate is set.
func Open(ctx context.Context, opts Options) (*DB, error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	var (
		sdb *sqlx.DB
		err error
	)
	switch opts.Driver {
	case DriverSQLite:
		dsn, derr := sqliteDSN(opts.SQLitePath)
		if derr != nil {
			return nil, derr
		}
		if err := os.MkdirAll(filepath.Dir(opts.SQLitePath), 0o750); err != nil {
			return nil, bot.Errorf(bot.EUNAVAILABLE, "store: create the SQLite directory: %v", err)
		}
		sdb, err = sqlx.Open("sqlite", dsn)
		if err != nil {
			return nil, translate(err)
		}
		// One connection: SQLite has one writer anyway, and a single
		// connection never meets SQLITE_BUSY inside the process.
		sdb.SetMaxOpenConns(1)
	case DriverMySQL:
		dsn, derr := mysqlDSN(opts.DSN)
		if derr != nil {
			return nil, derr
		}
		sdb, err = sqlx.Open("mysql", dsn)
		if err != nil {
			return nil, translate(err)
		}
		sdb.SetMaxOpenConns(mysqlMaxOpenConns)
		sdb.SetMaxIdleConns(mysqlMaxIdleConns)
		sdb.SetConnMaxLifetime(mysqlConnMaxLifetime)
		sdb.SetConnMaxIdleTime(mysqlConnMaxIdleTime)
	default:
		return nil, bot.Errorf(bot.EINVALID, "store: unknown driver %q (want %q or %q)", opts.Driver, DriverSQLite, DriverMySQL)
	}
	db := &DB{db: sdb, driver: opts.Driver, now: now}
	if err := db.Ping(ctx); err != nil {
		sdb.Close()
		return nil, err
	}
	if opts.Migrate {
		if err := db.Migrate(ctx); err != nil {
			sdb.Close()
			return nil, err
		}
	}
	return db, nil
}

// sqliteDSN builds the modernc.org/sqlite DSN of the file at path.
func sqliteDSN(path string) (string, error) {
	if path == "" {
		return "", bot.Errorf(bot.EINVALID, "store: SQLitePath is empty")
	}
	// The driver splits the DSN at the first '?', and a "file:" name would be
	// read as a URI: keep both out of plain paths.
	if strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") {
		return "", bot.Errorf(bot.EINVALID, "store: SQLitePath %q may not contain '?' or '#' or start with file:", path)
	}
	return path + "?" + sqlitePragmas, nil
}

// mysqlDSN returns dsn with the parameters the store relies on: parseTime
// and loc=UTC so that no time zone ever creeps in, and clientFoundRows so
// that an UPDATE reports the rows it matched, not only those it changed,
// as SQLite does (a lease renewal within the same millisecond changes
// nothing but still succeeded).
func mysqlDSN(dsn string) (string, error) {
	if dsn == "" {
		return "", bot.Errorf(bot.EINVALID, "store: MySQL DSN is empty")
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		// The parse error may quote the DSN, password included: keep it out.
		return "", bot.Errorf(bot.EINVALID, "store: MySQL DSN does not parse")
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	cfg.ClientFoundRows = true
	cfg.InterpolateParams = true // one round trip a statement; safe with utf8mb4
	return cfg.FormatDSN(), nil
}

// Driver returns DriverSQLite or DriverMySQL.
func (db *DB) Driver() string { return db.driver }

// Now returns the current time of the store's clock, in UTC and truncated to
// the millisecond, the precision of every stored time.
func (db *DB) Now() time.Time { return db.now().UTC().Truncate(time.Millisecond) }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	return translate(db.db.PingContext(ctx))
}

// Close closes the connection pool.
func (db *DB) Close() error {
	return db.db.Close()
}

// Inbox returns the inbox of acknowledged callbacks.
func (db *DB) Inbox() *Inbox { return &Inbox{db: db} }

// Outbox returns the queue of WeCom calls.
func (db *DB) Outbox() *Outbox { return &Outbox{db: db} }

// Leases returns the named leases.
func (db *DB) Leases() *Leases { return &Leases{db: db} }

// RateLimiter returns the shared sliding-window rate limiter.
func (db *DB) RateLimiter() *RateLimiter { return &RateLimiter{db: db} }

// Cases returns the store of cases, their events, photos and cards.
func (db *DB) Cases() *Cases { return &Cases{db: db} }

// mysql reports whether the dialect is MySQL (or TiDB).
func (db *DB) mysql() bool { return db.driver == DriverMySQL }

// dialect picks the statement for the store's dialect, where the two differ.
func (db *DB) dialect(sqlite, mysql string) string {
	if db.mysql() {
		return mysql
	}
	return sqlite
}

// begin starts a transaction with its one timestamp.
func (db *DB) begin(ctx context.Context) (*sqlx.Tx, time.Time, error) {
	tx, err := db.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, time.Time{}, translate(err)
	}
	return tx, db.Now(), nil
}

// commit commits tx, translating its error.
func commit(tx *sqlx.Tx) error {
	return translate(tx.Commit())
}

// toMS is the stored form of t: Unix milliseconds, 0 for the zero time.
func toMS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMS is the inverse of toMS, in UTC.
func fromMS(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// maxErrorLen is how many characters of an error message are kept.
const maxErrorLen = 1000

// truncate shortens s to n characters (not bytes), keeping UTF-8 valid.
func truncate(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

// maxKeyLen is the length of an indexed string column (VARCHAR(191)).
const maxKeyLen = 191

// checkKey validates a key stored in an indexed column.
func checkKey(what, key string) error {
	if key == "" {
		return bot.Errorf(bot.EINVALID, "store: empty %s", what)
	}
	if len(key) > maxKeyLen {
		return bot.Errorf(bot.EINVALID, "store: %s longer than %d bytes", what, maxKeyLen)
	}
	return nil
}

// nonNil turns a nil payload into an empty one: the columns are NOT NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
