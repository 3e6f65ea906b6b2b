CREATE TABLE IF NOT EXISTS {{bi}}.src_sends
(
    id          Int64,
    version     UInt64,
    deleted     UInt8,
    campaign_id Int64,
    person_id   Int64,
    status      String,
    sent_at     DateTime
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(sent_at)
ORDER BY (campaign_id, id)
