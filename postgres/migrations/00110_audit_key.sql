-- The per-install secret of the audit log's keyed hashes: free-text search
-- parameters (a name typed into a search box) are stored in audit details as
-- HMAC-SHA256 under this key, never as text (docs/access.md). 32 bytes from
-- PostgreSQL's strong random source (gen_random_uuid, core since 13: 122
-- random bits each, three of them). Readable by whoever reads the audit log's
-- database, so it protects the log's readers and exports, not against a
-- database superuser; erasure uses it to find and blank the hashes of an
-- erased person's identifiers.

-- +goose Up
CREATE TABLE audit_key (
    id     smallint PRIMARY KEY CHECK (id = 1),
    secret bytea NOT NULL CHECK (length(secret) >= 32)
);

INSERT INTO audit_key (id, secret)
SELECT 1, substring(decode(replace(gen_random_uuid()::text || gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex') FROM 1 FOR 48);

-- +goose Down
DROP TABLE audit_key;
