-- Infrastructure tables: the inbox of acknowledged callbacks, the outbox of
-- WeCom calls, leases, the rate limiter's slots and the two key-value tables.
-- Every time is a Unix millisecond count in UTC (0 = unset). No foreign keys,
-- triggers or procedures, so the schema also holds on TiDB. Indexed strings
-- are VARCHAR(191) (767-byte index prefixes on old InnoDB row formats); the
-- binary collation makes keys compare byte for byte, as they do on SQLite.

-- +goose Up
CREATE TABLE inbox (
    id           BIGINT        NOT NULL AUTO_INCREMENT,
    dedupe_key   VARCHAR(191)  NOT NULL,
    kind         VARCHAR(64)   NOT NULL DEFAULT '',
    user_id      VARCHAR(191)  NOT NULL DEFAULT '',
    payload      MEDIUMBLOB    NOT NULL,
    state        VARCHAR(16)   NOT NULL DEFAULT 'new',
    attempts     INT           NOT NULL DEFAULT 0,
    last_error   VARCHAR(1000) NOT NULL DEFAULT '',
    received_at  BIGINT        NOT NULL DEFAULT 0,
    processed_at BIGINT        NOT NULL DEFAULT 0,
    lease_owner  VARCHAR(191)  NOT NULL DEFAULT '',
    lease_until  BIGINT        NOT NULL DEFAULT 0,
    PRIMARY KEY (id),
    UNIQUE KEY inbox_dedupe_key (dedupe_key),
    KEY inbox_state_lease (state, lease_until)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE outbox (
    id          BIGINT        NOT NULL AUTO_INCREMENT,
    okey        VARCHAR(191)  NOT NULL,
    kind        VARCHAR(32)   NOT NULL DEFAULT '',
    recipient   VARCHAR(191)  NOT NULL DEFAULT '',
    payload     MEDIUMBLOB    NOT NULL,
    state       VARCHAR(16)   NOT NULL DEFAULT 'pending',
    attempts    INT           NOT NULL DEFAULT 0,
    next_at     BIGINT        NOT NULL DEFAULT 0,
    last_error  VARCHAR(1000) NOT NULL DEFAULT '',
    errcode     INT           NOT NULL DEFAULT 0,
    result      MEDIUMBLOB    NULL,
    created_at  BIGINT        NOT NULL DEFAULT 0,
    sent_at     BIGINT        NOT NULL DEFAULT 0,
    lease_owner VARCHAR(191)  NOT NULL DEFAULT '',
    lease_until BIGINT        NOT NULL DEFAULT 0,
    PRIMARY KEY (id),
    UNIQUE KEY outbox_okey (okey),
    KEY outbox_state_next (state, next_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE leases (
    name     VARCHAR(191) NOT NULL,
    holder   VARCHAR(191) NOT NULL DEFAULT '',
    until_ms BIGINT       NOT NULL DEFAULT 0,
    epoch    BIGINT       NOT NULL DEFAULT 0,
    PRIMARY KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE token_cache (
    k          VARCHAR(191) NOT NULL,
    v          MEDIUMBLOB   NOT NULL,
    expires_at BIGINT       NOT NULL DEFAULT 0,
    PRIMARY KEY (k)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE sessions (
    k          VARCHAR(191) NOT NULL,
    v          MEDIUMBLOB   NOT NULL,
    expires_at BIGINT       NOT NULL DEFAULT 0,
    PRIMARY KEY (k)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE rate_slots (
    rkey    VARCHAR(191) NOT NULL,
    slot    INT          NOT NULL,
    used_at BIGINT       NOT NULL DEFAULT 0,
    PRIMARY KEY (rkey, slot),
    KEY rate_slots_used (rkey, used_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE rate_slots;
DROP TABLE sessions;
DROP TABLE token_cache;
DROP TABLE leases;
DROP TABLE outbox;
DROP TABLE inbox;
