CREATE TABLE IF NOT EXISTS erasures
(
    person_id Int64,
    erased_at DateTime,
    event_id  UUID
)
ENGINE = ReplacingMergeTree(erased_at)
ORDER BY person_id
