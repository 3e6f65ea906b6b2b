CREATE TABLE IF NOT EXISTS {{bi}}.src_email_hits
(
    event_id    UUID,
    event_time  DateTime,
    kind        String,
    contact_id  Int64,
    campaign_id Int64,
    send_id     Int64,
    is_machine  UInt8,
    received_at DateTime
)
ENGINE = ReplacingMergeTree(received_at)
PARTITION BY toYYYYMM(event_time)
ORDER BY (campaign_id, kind, event_id)
