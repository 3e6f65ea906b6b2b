-- Rollup refreshes (kpi.Refresh): one row per complete refresh of the
-- dashboard rollups. Dashboards read the rollup rows of the newest refresh
-- here, and show its finished_at as "figures as of". A refresh that failed
-- half-way has no row, so its partial rows are never read.
CREATE TABLE IF NOT EXISTS rollup_refreshes
(
    refresh_id  UInt64,
    started_at  DateTime,
    finished_at DateTime,
    seconds     Float64,
    row_counts  String
)
ENGINE = MergeTree
ORDER BY refresh_id
