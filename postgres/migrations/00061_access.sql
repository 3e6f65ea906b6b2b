-- Access (R7.1-R7.2, docs/access.md): passwords of back-office users,
-- server-side web sessions and API tokens. Only hashes are stored: a bcrypt
-- hash of the password, a SHA-256 hash of each session id and API token, so
-- a copy of the database opens no account.

-- +goose Up
CREATE TABLE user_passwords (
    user_id    bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    hash       text   NOT NULL CHECK (hash <> ''),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sessions (
    token_hash   bytea  PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE api_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text   NOT NULL DEFAULT '',
    token_hash   bytea  NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- +goose Down
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE user_passwords;
