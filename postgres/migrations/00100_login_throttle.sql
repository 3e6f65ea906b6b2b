-- Login throttling and user administration (docs/access.md, issue 12).
--
-- login_counters: one row per throttled key, "account:<sha256 of the
-- lower-cased username>", "address:<client address or IPv6 /64>" or
-- "pair:<account hash>:<address>". A login attempt locks its rows (SELECT
-- ... FOR UPDATE in one transaction), decides, and counts itself as a failure
-- before the password is checked; a success gives back only its own count.
-- So parallel attempts cannot slip past the limit, whichever process serves
-- them.
--
-- login_known_addresses: the addresses each user logged in from; an attempt
-- from one of them is counted per (account, address), so an attacker
-- elsewhere cannot lock the user out (docs/access.md).
--
-- sessions get the client address and user agent, for `calore user sessions`.
-- audit_log gets the action login_failed.

-- +goose Up
CREATE TABLE login_counters (
    key      text    PRIMARY KEY CHECK (key <> ''),
    failures integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
    last_at  timestamptz
);
CREATE INDEX login_counters_last_at ON login_counters (last_at);

CREATE TABLE login_known_addresses (
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    address text   NOT NULL,
    last_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, address)
);

ALTER TABLE sessions
    ADD COLUMN address    text NOT NULL DEFAULT '',
    ADD COLUMN user_agent text NOT NULL DEFAULT '';

ALTER TABLE audit_log DROP CONSTRAINT audit_log_action_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_action_check
    CHECK (action IN ('read', 'create', 'update', 'delete', 'merge', 'export', 'login', 'login_failed'));

-- +goose Down
DELETE FROM audit_log WHERE action = 'login_failed';
ALTER TABLE audit_log DROP CONSTRAINT audit_log_action_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_action_check
    CHECK (action IN ('read', 'create', 'update', 'delete', 'merge', 'export', 'login'));
ALTER TABLE sessions DROP COLUMN user_agent, DROP COLUMN address;
DROP TABLE login_known_addresses;
DROP TABLE login_counters;
