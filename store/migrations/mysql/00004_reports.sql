-- Reports: indexes behind the digests, the weekly and monthly packs, the
-- assessment and the ledgers (store/reports.go), so that their GROUP BY
-- queries read index ranges, not the whole table, on a million cases.
--   cases_district_closed  a district's open cases (closed_at = 0) by
--                          deadline, and what it closed within a day
--   cases_closed           every district's closures within a period, and
--                          the open cases (closed_at = 0), counted from the
--                          index alone
--   cases_created_report   the cases filed within a period by district,
--                          source, category, grid: read from the index alone
--   case_events_action_at  the handled, rework, escalation and overdue
--                          steps within a period

-- +goose Up
CREATE INDEX cases_district_closed ON cases (district, closed_at, due_at);
CREATE INDEX cases_closed ON cases (closed_at, district, status, overdue, due_at, close_code, created_at);
CREATE INDEX cases_created_report ON cases (created_at, district, grid, code, category, source, plan, on_spot);
CREATE INDEX case_events_action_at ON case_events (action, at, case_id, denied);

-- +goose Down
DROP INDEX case_events_action_at ON case_events;
DROP INDEX cases_created_report ON cases;
DROP INDEX cases_closed ON cases;
DROP INDEX cases_district_closed ON cases;
