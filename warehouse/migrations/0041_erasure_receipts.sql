CREATE TABLE IF NOT EXISTS erasure_receipts
(
    event_id    UUID,
    erased_at   DateTime,
    database    String,
    table_name  String,
    action      String,
    rows_before UInt64,
    rows_after  UInt64,
    finished_at DateTime
)
ENGINE = ReplacingMergeTree(finished_at)
ORDER BY (event_id, database, table_name)
