CREATE TABLE IF NOT EXISTS fact_registrations
(
    id          Int64,
    version     UInt64,
    deleted     UInt8,
    merged_into Int64,
    change_id   UUID,
    changed_at  DateTime,
    event_id      Int64,
    person_id     Int64,
    status        String,
    source        String,
    is_vip        UInt8,
    attended      UInt8,
    registered_at DateTime,
    attended_at   DateTime,
    payload     String
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(registered_at)
ORDER BY (event_id, id)
