CREATE TABLE IF NOT EXISTS tracking_events
(
    event_id       UUID,
    event_time     DateTime,
    event_date     Date DEFAULT toDate(event_time),
    kind           String,
    contact_id     Int64,
    campaign_id    Int64,
    send_id        Int64,
    anonymous_id   String,
    url            String,
    name           String,
    referrer       String,
    user_agent     String,
    ip_prefix      String,
    is_machine     UInt8,
    machine_reason String,
    props          String DEFAULT '{}',
    schema_version UInt16 DEFAULT 1,
    received_at    DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree(received_at)
PARTITION BY toYYYYMM(event_date)
ORDER BY (kind, event_date, contact_id, event_id)
