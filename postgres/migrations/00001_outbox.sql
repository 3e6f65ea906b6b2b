-- The transactional outbox: every change of a domain record writes one row here
-- in the same transaction as the change. `calore relay` publishes the rows to
-- Kafka in id order and stamps published_at; nothing else leaves PostgreSQL.

-- +goose Up
CREATE TABLE outbox (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id       uuid        NOT NULL UNIQUE,
    event_type     text        NOT NULL,
    aggregate_type text        NOT NULL,
    aggregate_id   text        NOT NULL,
    schema_version integer     NOT NULL CHECK (schema_version > 0),
    payload        jsonb       NOT NULL,
    occurred_at    timestamptz NOT NULL DEFAULT now(),
    published_at   timestamptz
);

CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;

-- +goose Down
DROP TABLE outbox;
