-- The plan's daily and weekly duties: inspectors' patrols with their tracks,
-- guidance officers' visits (签到) and monthly activities. Times are Unix
-- milliseconds in UTC; day and month are local (Asia/Shanghai) strings. TEXT
-- columns have no default (TiDB and older MySQL refuse one).

-- +goose Up
CREATE TABLE patrols (
    id          BIGINT       NOT NULL AUTO_INCREMENT,
    user_id     VARCHAR(191) NOT NULL DEFAULT '',
    grid        VARCHAR(191) NOT NULL DEFAULT '',
    district    VARCHAR(191) NOT NULL DEFAULT '',
    day         VARCHAR(16)  NOT NULL DEFAULT '',
    started_at  BIGINT       NOT NULL DEFAULT 0,
    ended_at    BIGINT       NOT NULL DEFAULT 0,
    start_lat   DOUBLE       NOT NULL DEFAULT 0,
    start_lng   DOUBLE       NOT NULL DEFAULT 0,
    end_lat     DOUBLE       NOT NULL DEFAULT 0,
    end_lng     DOUBLE       NOT NULL DEFAULT 0,
    points      INT          NOT NULL DEFAULT 0,
    counts      TINYINT      NOT NULL DEFAULT 0,
    source      VARCHAR(16)  NOT NULL DEFAULT '',
    PRIMARY KEY (id),
    KEY patrols_started (started_at),
    KEY patrols_day_grid (day, grid),
    KEY patrols_user_started (user_id, started_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE patrol_points (
    id        BIGINT NOT NULL AUTO_INCREMENT,
    patrol_id BIGINT NOT NULL,
    at        BIGINT NOT NULL DEFAULT 0,
    lat       DOUBLE NOT NULL DEFAULT 0,
    lng       DOUBLE NOT NULL DEFAULT 0,
    PRIMARY KEY (id),
    KEY patrol_points_patrol (patrol_id, at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE visits (
    id        BIGINT       NOT NULL AUTO_INCREMENT,
    user_id   VARCHAR(191) NOT NULL DEFAULT '',
    dept      VARCHAR(64)  NOT NULL DEFAULT '',
    district  VARCHAR(191) NOT NULL DEFAULT '',
    community VARCHAR(191) NOT NULL DEFAULT '',
    day       VARCHAR(16)  NOT NULL DEFAULT '',
    at        BIGINT       NOT NULL DEFAULT 0,
    lat       DOUBLE       NOT NULL DEFAULT 0,
    lng       DOUBLE       NOT NULL DEFAULT 0,
    note      TEXT         NOT NULL,
    PRIMARY KEY (id),
    KEY visits_at (at),
    KEY visits_user_community (user_id, community, at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE activities (
    id         BIGINT       NOT NULL AUTO_INCREMENT,
    user_id    VARCHAR(191) NOT NULL DEFAULT '',
    dept       VARCHAR(64)  NOT NULL DEFAULT '',
    district   VARCHAR(191) NOT NULL DEFAULT '',
    month      VARCHAR(8)   NOT NULL DEFAULT '',
    kind       VARCHAR(16)  NOT NULL DEFAULT '',
    topic      TEXT         NOT NULL,
    place      TEXT         NOT NULL,
    attendance INT          NOT NULL DEFAULT 0,
    photos     TEXT         NOT NULL,
    at         BIGINT       NOT NULL DEFAULT 0,
    PRIMARY KEY (id),
    KEY activities_at (at),
    KEY activities_month (month)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE activities;
DROP TABLE visits;
DROP TABLE patrol_points;
DROP TABLE patrols;
