-- A worker's name (worker.name, e.g. worker1@host from its systemd unit):
-- flower shows it, so several workers on one host tell apart. Empty for
-- jobs without one (schedulers, workers from before this column).

-- +goose Up
ALTER TABLE job ADD COLUMN name text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE job DROP COLUMN name;
