CREATE TABLE IF NOT EXISTS {{bi}}.src_funnel_snapshots
(
    funnel        String,
    as_of         Date,
    segment_kind  String,
    segment       String,
    step          Int32,
    step_name     String,
    entered       Int64,
    conversion    Float64,
    median_hours  Float64,
    computed_at   DateTime
)
ENGINE = ReplacingMergeTree(computed_at)
ORDER BY (funnel, as_of, segment_kind, segment, step)
