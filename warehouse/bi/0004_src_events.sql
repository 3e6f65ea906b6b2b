CREATE TABLE IF NOT EXISTS {{bi}}.src_events
(
    id        Int64,
    version   UInt64,
    deleted   UInt8,
    name      String,
    kind      String,
    office    String,
    series_id Int64,
    location  String,
    is_online UInt8,
    capacity  Int64,
    starts_at DateTime
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id
