package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"syscall"

	"github.com/go-sql-driver/mysql"
	"github.com/redis/go-redis/v9"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"gridbot/bot"
)

// MySQL server error numbers the store tells apart.
const (
	mysqlDupEntry         = 1062 // ER_DUP_ENTRY
	mysqlTooManyConns     = 1040 // ER_CON_COUNT_ERROR
	mysqlLockWaitTimeout  = 1205 // ER_LOCK_WAIT_TIMEOUT
	mysqlDeadlock         = 1213 // ER_LOCK_DEADLOCK
	mysqlServerShutdown   = 1053 // ER_SERVER_SHUTDOWN
	mysqlQueryInterrupted = 1317 // ER_QUERY_INTERRUPTED
	tidbWriteConflict     = 9007 // TiDB: write conflict, retry the transaction
)

// translate is the one place where driver errors become bot errors: a unique
// key violation is ECONFLICT, a missing row ENOTFOUND, a database that cannot
// be reached or is busy EUNAVAILABLE. The driver error stays in the chain
// (errors.Is and errors.As still find it); anything else passes unchanged
// and counts as EINTERNAL.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var be *bot.Error
	if errors.As(err, &be) {
		return err
	}
	code, msg := classify(err)
	if code == "" {
		return err
	}
	return fmt.Errorf("%w (%w)", bot.Errorf(code, "%s", msg), err)
}

// classify returns the bot code and a safe message for err, or "" when err
// is not one the store knows.
func classify(err error) (code, msg string) {
	var (
		lite   *sqlite.Error
		my     *mysql.MySQLError
		netErr net.Error
	)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return bot.ENOTFOUND, "store: not found"
	case errors.As(err, &lite):
		switch {
		case lite.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE, lite.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return bot.ECONFLICT, "store: duplicate key"
		case lite.Code()&0xff == sqlite3.SQLITE_BUSY, lite.Code()&0xff == sqlite3.SQLITE_LOCKED:
			return bot.EUNAVAILABLE, "store: database is busy"
		case lite.Code()&0xff == sqlite3.SQLITE_CANTOPEN, lite.Code()&0xff == sqlite3.SQLITE_IOERR, lite.Code()&0xff == sqlite3.SQLITE_FULL:
			return bot.EUNAVAILABLE, "store: database file unavailable"
		}
	case errors.As(err, &my):
		switch my.Number {
		case mysqlDupEntry:
			return bot.ECONFLICT, "store: duplicate key"
		case mysqlLockWaitTimeout, mysqlDeadlock, tidbWriteConflict:
			return bot.EUNAVAILABLE, "store: transaction conflict, try again"
		case mysqlTooManyConns, mysqlServerShutdown, mysqlQueryInterrupted:
			return bot.EUNAVAILABLE, "store: database unavailable"
		}
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, mysql.ErrInvalidConn),
		errors.Is(err, sql.ErrConnDone), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, context.DeadlineExceeded):
		return bot.EUNAVAILABLE, "store: database unavailable"
	case errors.As(err, &netErr):
		return bot.EUNAVAILABLE, "store: database unavailable"
	}
	return "", ""
}

// retryable reports whether err is a transient conflict worth running the
// transaction again for at once: a MySQL deadlock or a TiDB write conflict.
// (A lock wait timeout has already waited long; it is only EUNAVAILABLE.)
func retryable(err error) bool {
	var my *mysql.MySQLError
	if errors.As(err, &my) {
		switch my.Number {
		case mysqlDeadlock, tidbWriteConflict:
			return true
		}
	}
	return false
}

// translateRedis turns a Redis error into EUNAVAILABLE; redis.Nil is not an
// error and callers handle it first.
func translateRedis(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, redis.Nil) {
		return bot.Errorf(bot.ENOTFOUND, "store: no such key")
	}
	return fmt.Errorf("%w (%w)", bot.Errorf(bot.EUNAVAILABLE, "store: redis unavailable"), err)
}
