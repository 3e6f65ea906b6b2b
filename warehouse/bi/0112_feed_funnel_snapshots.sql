CREATE MATERIALIZED VIEW IF NOT EXISTS {{bi}}.src_funnel_snapshots_feed TO {{bi}}.src_funnel_snapshots
AS SELECT funnel, as_of, segment_kind, segment, step, step_name, entered, conversion, median_hours, computed_at
FROM {{warehouse}}.funnel_snapshots
