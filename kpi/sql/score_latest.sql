-- The newest as_of day of one model's person scores on or before @to_day,
-- with the model version of that day's newest run (n = 0: no scores yet).
SELECT max(as_of) AS latest, argMax(model_version, (as_of, computed_at)) AS latest_version, count() AS n
FROM person_scores
WHERE model = @model AND as_of <= toDate(@to_day)
