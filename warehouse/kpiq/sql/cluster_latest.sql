-- The newest as_of day of company clusters on or before @to_day (n = 0:
-- none yet) and that day's newest model version.
SELECT max(as_of) AS latest, argMax(model_version, (as_of, computed_at)) AS latest_version, count() AS n
FROM company_clusters
WHERE as_of <= toDate(@to_day)
