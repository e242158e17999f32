-- Cases: the problem ledger (问题台账), its append-only events, its photos,
-- the button cards sent about it, the per-day counters of case numbers and
-- the files of downloaded media. Every time is a Unix millisecond count in
-- UTC (0 = unset); booleans are TINYINT 0/1. No foreign keys, triggers or
-- procedures, so the schema also holds on TiDB. TEXT columns have no
-- default (TiDB and older MySQL refuse one): every INSERT names them.
-- Indexed strings are at most VARCHAR(191); the binary collation compares
-- them byte for byte, as SQLite does. String lengths are checked in the
-- store (cases.go), so strict mode never has to reject a value.

-- +goose Up
CREATE TABLE cases (
    id             BIGINT        NOT NULL AUTO_INCREMENT,
    no             VARCHAR(32)   NOT NULL,
    status         VARCHAR(16)   NOT NULL DEFAULT '',
    version        INT           NOT NULL DEFAULT 0,
    source         VARCHAR(16)   NOT NULL DEFAULT '',
    reporter       VARCHAR(191)  NOT NULL DEFAULT '',
    receiver       VARCHAR(191)  NOT NULL DEFAULT '',
    resident_name  VARCHAR(191)  NOT NULL DEFAULT '',
    resident_phone VARCHAR(64)   NOT NULL DEFAULT '',
    code           VARCHAR(8)    NOT NULL DEFAULT '',
    category       VARCHAR(191)  NOT NULL DEFAULT '',
    plan           VARCHAR(64)   NOT NULL DEFAULT '',
    dept           VARCHAR(64)   NOT NULL DEFAULT '',
    size           VARCHAR(16)   NOT NULL DEFAULT '',
    district       VARCHAR(191)  NOT NULL DEFAULT '',
    community      VARCHAR(191)  NOT NULL DEFAULT '',
    grid           VARCHAR(191)  NOT NULL DEFAULT '',
    lat            DOUBLE        NOT NULL DEFAULT 0,
    lng            DOUBLE        NOT NULL DEFAULT 0,
    place          VARCHAR(500)  NOT NULL DEFAULT '',
    text           TEXT          NOT NULL,
    holder         VARCHAR(16)   NOT NULL DEFAULT '',
    assignee       VARCHAR(191)  NOT NULL DEFAULT '',
    partner        VARCHAR(191)  NOT NULL DEFAULT '',
    due_at         BIGINT        NOT NULL DEFAULT 0,
    remind_at      BIGINT        NOT NULL DEFAULT 0,
    overdue        TINYINT       NOT NULL DEFAULT 0,
    escalations    INT           NOT NULL DEFAULT 0,
    rework         INT           NOT NULL DEFAULT 0,
    supports       INT           NOT NULL DEFAULT 0,
    on_spot        TINYINT       NOT NULL DEFAULT 0,
    close_code     VARCHAR(32)   NOT NULL DEFAULT '',
    close_note     TEXT          NOT NULL,
    dup_of         VARCHAR(32)   NOT NULL DEFAULT '',
    closed_at      BIGINT        NOT NULL DEFAULT 0,
    created_at     BIGINT        NOT NULL DEFAULT 0,
    updated_at     BIGINT        NOT NULL DEFAULT 0,
    PRIMARY KEY (id),
    UNIQUE KEY cases_no (no),
    KEY cases_status_due (status, due_at),
    KEY cases_status_remind (status, remind_at),
    KEY cases_district_created (district, created_at),
    KEY cases_code_status (code, status),
    KEY cases_assignee_status (assignee, status),
    KEY cases_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE case_events (
    id          BIGINT       NOT NULL AUTO_INCREMENT,
    case_id     BIGINT       NOT NULL,
    at          BIGINT       NOT NULL DEFAULT 0,
    actor       VARCHAR(191) NOT NULL DEFAULT '',
    action      VARCHAR(32)  NOT NULL DEFAULT '',
    from_status VARCHAR(16)  NOT NULL DEFAULT '',
    to_status   VARCHAR(16)  NOT NULL DEFAULT '',
    note        TEXT         NOT NULL,
    photos      TEXT         NOT NULL,
    ekey        VARCHAR(191) NOT NULL DEFAULT '',
    denied      TINYINT      NOT NULL DEFAULT 0,
    PRIMARY KEY (id),
    KEY case_events_case (case_id, at),
    KEY case_events_ekey (ekey)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE case_photos (
    id           BIGINT       NOT NULL AUTO_INCREMENT,
    case_id      BIGINT       NOT NULL,
    media_id     VARCHAR(191) NOT NULL,
    kind         VARCHAR(16)  NOT NULL DEFAULT '',
    by_user      VARCHAR(191) NOT NULL DEFAULT '',
    at           BIGINT       NOT NULL DEFAULT 0,
    file         VARCHAR(255) NOT NULL DEFAULT '',
    content_type VARCHAR(128) NOT NULL DEFAULT '',
    size         BIGINT       NOT NULL DEFAULT 0,
    PRIMARY KEY (id),
    UNIQUE KEY case_photos_case_media (case_id, media_id),
    KEY case_photos_media (media_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE cards (
    task_id    VARCHAR(128) NOT NULL,
    case_id    BIGINT       NOT NULL DEFAULT 0,
    recipient  VARCHAR(191) NOT NULL DEFAULT '',
    actions    TEXT         NOT NULL,
    version    INT          NOT NULL DEFAULT 0,
    kind       VARCHAR(32)  NOT NULL DEFAULT '',
    state      VARCHAR(16)  NOT NULL DEFAULT 'open',
    used_by    VARCHAR(191) NOT NULL DEFAULT '',
    used_at    BIGINT       NOT NULL DEFAULT 0,
    action     VARCHAR(64)  NOT NULL DEFAULT '',
    created_at BIGINT       NOT NULL DEFAULT 0,
    PRIMARY KEY (task_id),
    KEY cards_case (case_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE case_seq (
    day_key VARCHAR(32) NOT NULL,
    n       INT         NOT NULL DEFAULT 0,
    PRIMARY KEY (day_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE media_files (
    media_id     VARCHAR(191) NOT NULL,
    file         VARCHAR(255) NOT NULL DEFAULT '',
    content_type VARCHAR(128) NOT NULL DEFAULT '',
    size         BIGINT       NOT NULL DEFAULT 0,
    at           BIGINT       NOT NULL DEFAULT 0,
    PRIMARY KEY (media_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE media_files;
DROP TABLE case_seq;
DROP TABLE cards;
DROP TABLE case_photos;
DROP TABLE case_events;
DROP TABLE cases;
