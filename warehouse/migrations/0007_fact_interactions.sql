CREATE TABLE IF NOT EXISTS fact_interactions
(
    id          Int64,
    version     UInt64,
    deleted     UInt8,
    merged_into Int64,
    change_id   UUID,
    changed_at  DateTime,
    person_id       Int64,
    organisation_id Int64,
    channel         String,
    direction       String,
    office          String,
    event_id        Int64,
    campaign_id     Int64,
    occurred_at     DateTime,
    payload     String
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (channel, occurred_at, id)
