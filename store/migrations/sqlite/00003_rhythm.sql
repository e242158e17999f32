-- The plan's daily and weekly duties: inspectors' patrols with their tracks,
-- guidance officers' visits (签到) and monthly activities. Times are Unix
-- milliseconds in UTC; day and month are local (Asia/Shanghai) strings.

-- +goose Up
CREATE TABLE patrols (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     TEXT    NOT NULL DEFAULT '',
    grid        TEXT    NOT NULL DEFAULT '',
    district    TEXT    NOT NULL DEFAULT '',
    day         TEXT    NOT NULL DEFAULT '',
    started_at  INTEGER NOT NULL DEFAULT 0,
    ended_at    INTEGER NOT NULL DEFAULT 0,
    start_lat   REAL    NOT NULL DEFAULT 0,
    start_lng   REAL    NOT NULL DEFAULT 0,
    end_lat     REAL    NOT NULL DEFAULT 0,
    end_lng     REAL    NOT NULL DEFAULT 0,
    points      INTEGER NOT NULL DEFAULT 0,
    counts      INTEGER NOT NULL DEFAULT 0,
    source      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX patrols_started ON patrols (started_at);
CREATE INDEX patrols_day_grid ON patrols (day, grid);
CREATE INDEX patrols_user_started ON patrols (user_id, started_at);

CREATE TABLE patrol_points (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    patrol_id INTEGER NOT NULL,
    at        INTEGER NOT NULL DEFAULT 0,
    lat       REAL    NOT NULL DEFAULT 0,
    lng       REAL    NOT NULL DEFAULT 0
);
CREATE INDEX patrol_points_patrol ON patrol_points (patrol_id, at);

CREATE TABLE visits (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id   TEXT    NOT NULL DEFAULT '',
    dept      TEXT    NOT NULL DEFAULT '',
    district  TEXT    NOT NULL DEFAULT '',
    community TEXT    NOT NULL DEFAULT '',
    day       TEXT    NOT NULL DEFAULT '',
    at        INTEGER NOT NULL DEFAULT 0,
    lat       REAL    NOT NULL DEFAULT 0,
    lng       REAL    NOT NULL DEFAULT 0,
    note      TEXT    NOT NULL
);
CREATE INDEX visits_at ON visits (at);
CREATE INDEX visits_user_community ON visits (user_id, community, at);

CREATE TABLE activities (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    TEXT    NOT NULL DEFAULT '',
    dept       TEXT    NOT NULL DEFAULT '',
    district   TEXT    NOT NULL DEFAULT '',
    month      TEXT    NOT NULL DEFAULT '',
    kind       TEXT    NOT NULL DEFAULT '',
    topic      TEXT    NOT NULL,
    place      TEXT    NOT NULL,
    attendance INTEGER NOT NULL DEFAULT 0,
    photos     TEXT    NOT NULL,
    at         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX activities_at ON activities (at);
CREATE INDEX activities_month ON activities (month);

-- +goose Down
DROP TABLE activities;
DROP TABLE visits;
DROP TABLE patrol_points;
DROP TABLE patrols;
