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
    location    String,
    starts_at   DateTime,
    created_at  DateTime,
    payload     String
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id
