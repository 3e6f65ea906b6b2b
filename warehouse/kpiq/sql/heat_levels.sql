-- Heat snapshots with as_of in [@from_day, @to_day]: people per level (1-4)
-- per as_of day (each day's newest run), only people of kind @segment unless
-- it is ''. From the newest rollup refresh (rollup_heat.sql).
SELECT as_of, level, sum(people)
FROM rollup_heat
WHERE refresh_id = (SELECT max(refresh_id) FROM rollup_refreshes)
  AND as_of >= toDate(@from_day) AND as_of <= toDate(@to_day)
  AND (@segment = '' OR kind = @segment)
GROUP BY as_of, level
ORDER BY as_of, level
