-- Webserver sessions are signed cookies; bumping a user's session_gen
-- revokes every cookie issued before (logout), in every webserver process.

-- +goose Up
ALTER TABLE users ADD COLUMN session_gen INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE users DROP COLUMN session_gen;
