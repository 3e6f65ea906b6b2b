CREATE TABLE IF NOT EXISTS dim_events
(
    id          Int64,
    version     UInt64,
    deleted     UInt8,
    merged_into Int64,
    change_id   UUID,
    changed_at  DateTime,
    name        String,
    kind        String,
    office      String,
    series_id   Int64,
    location    String,
    is_online   UInt8,
    capacity    Int64,
    starts_at   DateTime,
    created_at  DateTime,
    payload     String
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id
