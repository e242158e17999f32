-- Cases: the problem ledger (问题台账), its append-only events, its photos,
-- the button cards sent about it, the per-day counters of case numbers and
-- the files of downloaded media. Every time is a Unix millisecond count in
-- UTC (0 = unset); booleans are 0/1 integers. No foreign keys, triggers or
-- procedures: the same schema must hold on MySQL and TiDB.

-- +goose Up
CREATE TABLE cases (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    no             TEXT    NOT NULL,
    status         TEXT    NOT NULL DEFAULT '',
    version        INTEGER NOT NULL DEFAULT 0,
    source         TEXT    NOT NULL DEFAULT '',
    reporter       TEXT    NOT NULL DEFAULT '',
    receiver       TEXT    NOT NULL DEFAULT '',
    resident_name  TEXT    NOT NULL DEFAULT '',
    resident_phone TEXT    NOT NULL DEFAULT '',
    code           TEXT    NOT NULL DEFAULT '',
    category       TEXT    NOT NULL DEFAULT '',
    plan           TEXT    NOT NULL DEFAULT '',
    dept           TEXT    NOT NULL DEFAULT '',
    size           TEXT    NOT NULL DEFAULT '',
    district       TEXT    NOT NULL DEFAULT '',
    community      TEXT    NOT NULL DEFAULT '',
    grid           TEXT    NOT NULL DEFAULT '',
    lat            REAL    NOT NULL DEFAULT 0,
    lng            REAL    NOT NULL DEFAULT 0,
    place          TEXT    NOT NULL DEFAULT '',
    text           TEXT    NOT NULL,
    holder         TEXT    NOT NULL DEFAULT '',
    assignee       TEXT    NOT NULL DEFAULT '',
    partner        TEXT    NOT NULL DEFAULT '',
    due_at         INTEGER NOT NULL DEFAULT 0,
    remind_at      INTEGER NOT NULL DEFAULT 0,
    overdue        INTEGER NOT NULL DEFAULT 0,
    escalations    INTEGER NOT NULL DEFAULT 0,
    rework         INTEGER NOT NULL DEFAULT 0,
    supports       INTEGER NOT NULL DEFAULT 0,
    on_spot        INTEGER NOT NULL DEFAULT 0,
    close_code     TEXT    NOT NULL DEFAULT '',
    close_note     TEXT    NOT NULL,
    dup_of         TEXT    NOT NULL DEFAULT '',
    closed_at      INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL DEFAULT 0,
    updated_at     INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX cases_no ON cases (no);
CREATE INDEX cases_status_due ON cases (status, due_at);
CREATE INDEX cases_status_remind ON cases (status, remind_at);
CREATE INDEX cases_district_created ON cases (district, created_at);
CREATE INDEX cases_code_status ON cases (code, status);
CREATE INDEX cases_assignee_status ON cases (assignee, status);
CREATE INDEX cases_created ON cases (created_at);

CREATE TABLE case_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id     INTEGER NOT NULL,
    at          INTEGER NOT NULL DEFAULT 0,
    actor       TEXT    NOT NULL DEFAULT '',
    action      TEXT    NOT NULL DEFAULT '',
    from_status TEXT    NOT NULL DEFAULT '',
    to_status   TEXT    NOT NULL DEFAULT '',
    note        TEXT    NOT NULL,
    photos      TEXT    NOT NULL,
    ekey        TEXT    NOT NULL DEFAULT '',
    denied      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX case_events_case ON case_events (case_id, at);
CREATE INDEX case_events_ekey ON case_events (ekey);

CREATE TABLE case_photos (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id      INTEGER NOT NULL,
    media_id     TEXT    NOT NULL,
    kind         TEXT    NOT NULL DEFAULT '',
    by_user      TEXT    NOT NULL DEFAULT '',
    at           INTEGER NOT NULL DEFAULT 0,
    file         TEXT    NOT NULL DEFAULT '',
    content_type TEXT    NOT NULL DEFAULT '',
    size         INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX case_photos_case_media ON case_photos (case_id, media_id);
CREATE INDEX case_photos_media ON case_photos (media_id);

CREATE TABLE cards (
    task_id    TEXT    NOT NULL PRIMARY KEY,
    case_id    INTEGER NOT NULL DEFAULT 0,
    recipient  TEXT    NOT NULL DEFAULT '',
    actions    TEXT    NOT NULL,
    version    INTEGER NOT NULL DEFAULT 0,
    kind       TEXT    NOT NULL DEFAULT '',
    state      TEXT    NOT NULL DEFAULT 'open',
    used_by    TEXT    NOT NULL DEFAULT '',
    used_at    INTEGER NOT NULL DEFAULT 0,
    action     TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX cards_case ON cards (case_id);

CREATE TABLE case_seq (
    day_key TEXT    NOT NULL PRIMARY KEY,
    n       INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE media_files (
    media_id     TEXT    NOT NULL PRIMARY KEY,
    file         TEXT    NOT NULL DEFAULT '',
    content_type TEXT    NOT NULL DEFAULT '',
    size         INTEGER NOT NULL DEFAULT 0,
    at           INTEGER NOT NULL DEFAULT 0
);

-- +goose Down
DROP TABLE media_files;
DROP TABLE case_seq;
DROP TABLE cards;
DROP TABLE case_photos;
DROP TABLE case_events;
DROP TABLE cases;
