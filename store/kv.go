package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"gridbot/bot"
)

var (
	_ bot.KV = (*SQLKV)(nil)
	_ bot.KV = (*RedisKV)(nil)
)

// Tables NewSQLKV accepts.
const (
	TableSessions   = "sessions"
	TableTokenCache = "token_cache"
)

// SQLKV is the key-value store with expiry on an SQL table (bot.KV), the
// twin of RedisKV for deployments without Redis. Expired rows are invisible
// and are deleted when read.
type SQLKV struct {
	db *DB
	// The statements of the table, made from the const templates below with
	// the (validated) table name.
	qGet, qSet, qDelete, qExpire string
}

// NewSQLKV returns the key-value store on table, TableSessions or
// TableTokenCache.
func NewSQLKV(db *DB, table string) (*SQLKV, error) {
	const qGet = `SELECT v, expires_at FROM {table} WHERE k = ?`
	const qSetSQLite = `INSERT INTO {table} (k, v, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (k) DO UPDATE SET v = excluded.v, expires_at = excluded.expires_at`
	const qSetMySQL = `INSERT INTO {table} (k, v, expires_at) VALUES (?, ?, ?)
		ON DUPLICATE KEY UPDATE v = VALUES(v), expires_at = VALUES(expires_at)`
	const qDelete = `DELETE FROM {table} WHERE k = ?`
	// Deletes the row only if it is still the expired one that was read.
	const qExpire = `DELETE FROM {table} WHERE k = ? AND expires_at = ?`
	if table != TableSessions && table != TableTokenCache {
		return nil, bot.Errorf(bot.EINVALID, "store: no key-value table %q", table)
	}
	name := func(q string) string { return strings.ReplaceAll(q, "{table}", table) }
	return &SQLKV{
		db:      db,
		qGet:    name(qGet),
		qSet:    name(db.dialect(qSetSQLite, qSetMySQL)),
		qDelete: name(qDelete),
		qExpire: name(qExpire),
	}, nil
}

// Get returns the value of key; ok is false when there is none or it expired.
func (kv *SQLKV) Get(ctx context.Context, key string) (value []byte, ok bool, err error) {
	if err := checkKey("key", key); err != nil {
		return nil, false, err
	}
	var rec struct {
		V         []byte `db:"v"`
		ExpiresAt int64  `db:"expires_at"`
	}
	err = kv.db.db.GetContext(ctx, &rec, kv.qGet, key)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, translate(err)
	}
	if rec.ExpiresAt != 0 && rec.ExpiresAt <= toMS(kv.db.Now()) {
		if _, err := kv.db.db.ExecContext(ctx, kv.qExpire, key, rec.ExpiresAt); err != nil {
			return nil, false, translate(err)
		}
		return nil, false, nil
	}
	return nonNil(rec.V), true, nil
}

// Set stores value under key for ttl; a ttl of 0 never expires.
func (kv *SQLKV) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := checkKey("key", key); err != nil {
		return err
	}
	if ttl < 0 {
		return bot.Errorf(bot.EINVALID, "store: negative ttl %v", ttl)
	}
	var expires int64
	if ttl > 0 {
		// At least one millisecond, the precision of the column.
		expires = toMS(kv.db.Now().Add(max(ttl, time.Millisecond)))
	}
	_, err := kv.db.db.ExecContext(ctx, kv.qSet, key, nonNil(value), expires)
	return translate(err)
}

// Delete removes key; a missing key is not an error.
func (kv *SQLKV) Delete(ctx context.Context, key string) error {
	if err := checkKey("key", key); err != nil {
		return err
	}
	_, err := kv.db.db.ExecContext(ctx, kv.qDelete, key)
	return translate(err)
}

// RedisKV is the key-value store on Redis (bot.KV): single node, Sentinel or
// Cluster, whatever the UniversalClient is. Every key is prefix+key.
type RedisKV struct {
	client redis.UniversalClient
	prefix string
}

// NewRedisKV returns the key-value store on client under prefix.
func NewRedisKV(client redis.UniversalClient, prefix string) *RedisKV {
	return &RedisKV{client: client, prefix: prefix}
}

// Get returns the value of key; ok is false when there is none.
func (kv *RedisKV) Get(ctx context.Context, key string) (value []byte, ok bool, err error) {
	if key == "" {
		return nil, false, bot.Errorf(bot.EINVALID, "store: empty key")
	}
	value, err = kv.client.Get(ctx, kv.prefix+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, translateRedis(err)
	}
	return nonNil(value), true, nil
}

// Set stores value under key for ttl (SET with PX or EX); a ttl of 0 never
// expires.
func (kv *RedisKV) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if key == "" {
		return bot.Errorf(bot.EINVALID, "store: empty key")
	}
	if ttl < 0 {
		return bot.Errorf(bot.EINVALID, "store: negative ttl %v", ttl)
	}
	if ttl > 0 {
		ttl = max(ttl, time.Millisecond)
	}
	return translateRedis(kv.client.Set(ctx, kv.prefix+key, nonNil(value), ttl).Err())
}

// Delete removes key; a missing key is not an error.
func (kv *RedisKV) Delete(ctx context.Context, key string) error {
	if key == "" {
		return bot.Errorf(bot.EINVALID, "store: empty key")
	}
	return translateRedis(kv.client.Del(ctx, kv.prefix+key).Err())
}
