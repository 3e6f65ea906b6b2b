-- The newest as_of day of one model's person scores on or before @to_day,
-- with the model version and computed_at of that day's newest run (n = 0:
-- no scores yet), from the newest rollup refresh (rollup_score_runs.sql).
SELECT max(as_of) AS latest, argMax(model_version, (as_of, computed_at)) AS latest_version,
       argMax(computed_at, (as_of, computed_at)) AS latest_run, sum(score_rows) AS n
FROM rollup_score_runs
WHERE refresh_id = (SELECT max(refresh_id) FROM rollup_refreshes)
  AND model = @model AND as_of <= toDate(@to_day)
