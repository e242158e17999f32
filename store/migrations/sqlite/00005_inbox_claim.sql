-- The inbox claim reads new rows in arrival order from an index instead of
-- sorting the backlog on every claim.

-- +goose Up
CREATE INDEX inbox_state_received ON inbox (state, received_at, id);

-- +goose Down
DROP INDEX inbox_state_received;
