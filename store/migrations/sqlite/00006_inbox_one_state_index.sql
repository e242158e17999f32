-- One index on the inbox's state instead of two: (state, received_at, id)
-- serves both claim queries (new rows in arrival order; expired leases
-- among the few working rows), so (state, lease_until) only cost every
-- acknowledgement and every state change one more index write.

-- +goose Up
DROP INDEX inbox_state_lease;

-- +goose Down
CREATE INDEX inbox_state_lease ON inbox (state, lease_until);
