CREATE VIEW IF NOT EXISTS {{bi}}.funnels AS
SELECT
    funnel,
    as_of,
    segment_kind,
    segment,
    toInt64(step) AS step,
    argMax(step_name, computed_at) AS step_name,
    argMax(entered, computed_at) AS entered,
    argMax(conversion, computed_at) AS conversion,
    argMax(median_hours, computed_at) AS median_hours,
    max(computed_at) AS last_computed_at
FROM {{bi}}.src_funnel_snapshots
GROUP BY funnel, as_of, segment_kind, segment, step
