-- Rollup (kpi.Refresh): for each model and as_of day of person_scores, the
-- newest run, its model version and the day's rows (every run's).
INSERT INTO rollup_score_runs (refresh_id, model, as_of, computed_at, model_version, score_rows)
SELECT toUInt64(@refresh), model, as_of, max(computed_at), argMax(model_version, computed_at), count()
FROM person_scores
GROUP BY model, as_of
