-- Heat of alumni by graduation decade, per heat snapshot with as_of in
-- [@from_day, @to_day] (each day's newest run): people, mean heat level
-- (1-4) and how many are warm or hot (level 3 or 4). From the newest rollup
-- refresh (rollup_heat.sql: decade 0 is everyone who is not an alumnus with
-- a graduation year).
SELECT as_of, decade, sum(people), sum(level * people) / sum(people), sumIf(people, level >= 3)
FROM rollup_heat
WHERE refresh_id = (SELECT max(refresh_id) FROM rollup_refreshes)
  AND as_of >= toDate(@from_day) AND as_of <= toDate(@to_day)
  AND decade > 0
GROUP BY as_of, decade
ORDER BY as_of, decade
