CREATE TABLE IF NOT EXISTS {{bi}}.src_registrations
(
    id            Int64,
    version       UInt64,
    deleted       UInt8,
    event_id      Int64,
    person_id     Int64,
    status        String,
    source        String,
    is_vip        UInt8,
    attended      UInt8,
    registered_at DateTime,
    attended_at   DateTime
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(registered_at)
ORDER BY (event_id, id)
