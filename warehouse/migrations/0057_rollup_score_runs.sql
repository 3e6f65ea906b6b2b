-- Scoring runs, per refresh (kpi/sql/rollup_score_runs.sql): for each model
-- and as_of day, the newest run (computed_at), its model version and the
-- rows of that day. The dashboards find "the newest scores on or before the
-- period's end" here instead of in millions of person_scores rows.
CREATE TABLE IF NOT EXISTS rollup_score_runs
(
    refresh_id    UInt64,
    model         String,
    as_of         Date,
    computed_at   DateTime,
    model_version String,
    score_rows    UInt64
)
ENGINE = MergeTree
PARTITION BY refresh_id
ORDER BY (model, as_of)
