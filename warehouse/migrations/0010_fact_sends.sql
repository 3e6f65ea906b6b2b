CREATE TABLE IF NOT EXISTS fact_sends
(
    id          Int64,
    version     UInt64,
    deleted     UInt8,
    merged_into Int64,
    change_id   UUID,
    changed_at  DateTime,
    campaign_id Int64,
    person_id   Int64,
    status      String,
    sent_at     DateTime,
    opened_at   DateTime,
    clicked_at  DateTime,
    payload     String
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(sent_at)
ORDER BY (campaign_id, id)
