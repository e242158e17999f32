-- Infrastructure tables: the inbox of acknowledged callbacks, the outbox of
-- WeCom calls, leases, the rate limiter's slots and the two key-value tables.
-- Every time is a Unix millisecond count in UTC (0 = unset). No foreign keys,
-- triggers or procedures: the same schema must hold on MySQL and TiDB.

-- +goose Up
CREATE TABLE inbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    dedupe_key   TEXT    NOT NULL,
    kind         TEXT    NOT NULL DEFAULT '',
    user_id      TEXT    NOT NULL DEFAULT '',
    payload      BLOB    NOT NULL,
    state        TEXT    NOT NULL DEFAULT 'new',
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT    NOT NULL DEFAULT '',
    received_at  INTEGER NOT NULL DEFAULT 0,
    processed_at INTEGER NOT NULL DEFAULT 0,
    lease_owner  TEXT    NOT NULL DEFAULT '',
    lease_until  INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX inbox_dedupe_key ON inbox (dedupe_key);
CREATE INDEX inbox_state_lease ON inbox (state, lease_until);

CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    okey        TEXT    NOT NULL,
    kind        TEXT    NOT NULL DEFAULT '',
    recipient   TEXT    NOT NULL DEFAULT '',
    payload     BLOB    NOT NULL,
    state       TEXT    NOT NULL DEFAULT 'pending',
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT    NOT NULL DEFAULT '',
    errcode     INTEGER NOT NULL DEFAULT 0,
    result      BLOB,
    created_at  INTEGER NOT NULL DEFAULT 0,
    sent_at     INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT    NOT NULL DEFAULT '',
    lease_until INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX outbox_okey ON outbox (okey);
CREATE INDEX outbox_state_next ON outbox (state, next_at);

CREATE TABLE leases (
    name     TEXT    NOT NULL PRIMARY KEY,
    holder   TEXT    NOT NULL DEFAULT '',
    until_ms INTEGER NOT NULL DEFAULT 0,
    epoch    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE token_cache (
    k          TEXT    NOT NULL PRIMARY KEY,
    v          BLOB    NOT NULL,
    expires_at INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE sessions (
    k          TEXT    NOT NULL PRIMARY KEY,
    v          BLOB    NOT NULL,
    expires_at INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE rate_slots (
    rkey    TEXT    NOT NULL,
    slot    INTEGER NOT NULL,
    used_at INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (rkey, slot)
);
CREATE INDEX rate_slots_used ON rate_slots (rkey, used_at);

-- +goose Down
DROP TABLE rate_slots;
DROP TABLE sessions;
DROP TABLE token_cache;
DROP TABLE leases;
DROP TABLE outbox;
DROP TABLE inbox;
