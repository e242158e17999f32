package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"

	"gridbot/bot"
)

// migrations holds one folder of goose SQL files per dialect. A schema change
// is a new numbered file in both folders, never an edit of an applied one.
//
//go:embed migrations/sqlite/*.sql migrations/mysql/*.sql
var migrations embed.FS

// migrationsFS returns the migration folder of driver.
func migrationsFS(driver string) (fs.FS, goose.Dialect, error) {
	var dialect goose.Dialect
	switch driver {
	case DriverSQLite:
		dialect = goose.DialectSQLite3
	case DriverMySQL:
		dialect = goose.DialectMySQL
	default:
		return nil, "", bot.Errorf(bot.EINVALID, "store: no migrations for driver %q", driver)
	}
	sub, err := fs.Sub(migrations, "migrations/"+driver)
	if err != nil {
		return nil, "", fmt.Errorf("store: migrations of %s: %w", driver, err)
	}
	return sub, dialect, nil
}

// provider returns a goose provider over the embedded migrations of db's
// dialect, independent of goose's global registry.
func (db *DB) provider() (*goose.Provider, error) {
	fsys, dialect, err := migrationsFS(db.driver)
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if db.mysql() {
		opts = append(opts, goose.WithSessionLocker(migrateLock{}))
	}
	p, err := goose.NewProvider(dialect, db.db.DB, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	return p, nil
}

// Migrate applies every pending migration.
func (db *DB) Migrate(ctx context.Context) error {
	p, err := db.provider()
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("store: migrate up: %w", translate(err))
	}
	return nil
}

// MigrationVersion returns the schema version applied to the database and
// the newest one embedded in the binary.
func (db *DB) MigrationVersion(ctx context.Context) (current, latest int64, err error) {
	p, err := db.provider()
	if err != nil {
		return 0, 0, err
	}
	current, latest, err = p.GetVersions(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("store: migration version: %w", translate(err))
	}
	return current, latest, nil
}

// migrateLock serialises the migrations of instances that start together on
// one MySQL (or TiDB) database, with a named lock held by the connection
// goose migrates on. SQLite needs none: its migration is one writer.
type migrateLock struct{}

// Settings of migrateLock.
const (
	migrateLockName    = "gridbot.migrate"
	migrateLockSeconds = 300 // how long to wait for another instance's migration
)

// SessionLock waits for the migration lock.
func (migrateLock) SessionLock(ctx context.Context, conn *sql.Conn) error {
	const q = `SELECT GET_LOCK(?, ?)`
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, q, migrateLockName, migrateLockSeconds).Scan(&got); err != nil {
		return translate(err)
	}
	if !got.Valid || got.Int64 != 1 {
		return bot.Errorf(bot.EUNAVAILABLE, "store: another instance has held the migration lock for %ds", migrateLockSeconds)
	}
	return nil
}

// SessionUnlock releases the migration lock.
func (migrateLock) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	const q = `SELECT RELEASE_LOCK(?)`
	var released sql.NullInt64
	return translate(conn.QueryRowContext(ctx, q, migrateLockName).Scan(&released))
}
