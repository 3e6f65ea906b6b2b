CREATE TABLE IF NOT EXISTS {{bi}}.src_event_forecasts
(
    as_of        Date,
    event_id     Int64,
    kind         String,
    starts_at    DateTime,
    registered   Int64,
    show_up_rate Float64,
    forecast     Float64,
    actual       Int64,
    computed_at  DateTime
)
ENGINE = ReplacingMergeTree(computed_at)
ORDER BY (as_of, event_id)
