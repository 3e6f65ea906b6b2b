INSERT INTO {{bi}}.src_funnel_snapshots
SELECT funnel, as_of, segment_kind, segment, step, step_name, entered, conversion, median_hours, computed_at
FROM {{warehouse}}.funnel_snapshots
