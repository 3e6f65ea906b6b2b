CREATE TABLE IF NOT EXISTS change_log
(
    event_id       UUID,
    type           String,
    aggregate      String,
    aggregate_id   String,
    schema_version UInt16,
    event_time     DateTime,
    event_date     Date DEFAULT toDate(event_time),
    version        UInt64,
    payload        String,
    received_at    DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree(received_at)
PARTITION BY toYYYYMM(event_date)
ORDER BY (aggregate, aggregate_id, event_time, event_id)
