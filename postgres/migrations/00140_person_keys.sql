-- Crypto-shredding of Kafka (docs/gdpr.md): one data key per person. `calore
-- relay` creates a person's key the first time it publishes personal fields
-- about them and seals those fields with it (ingest/pii); `calore sink` reads
-- it to open them; `calore gdpr erase` deletes it in the erasure's
-- transaction, so the copies left in Kafka can no longer be read. A key id
-- (kid) is never reused: a person erased and written about again gets a new
-- key, and a destroyed kid stays destroyed.

-- +goose Up
CREATE TABLE person_keys (
    kid        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id  bigint NOT NULL UNIQUE,
    -- 32 bytes, or 60 when wrapped by CALORE_DATA_KEY_MASTER (nonce, key, tag)
    secret     bytea  NOT NULL CHECK (length(secret) IN (32, 60)),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE person_keys;
