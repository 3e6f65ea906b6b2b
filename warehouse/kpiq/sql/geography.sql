-- People (latest version, not deleted) by country and region, only of kind
-- @segment unless it is ''. Unknown country or region is ''. From the
-- newest rollup refresh (rollup_people.sql).
SELECT country, region, sum(people) AS n
FROM rollup_people
WHERE refresh_id = (SELECT max(refresh_id) FROM rollup_refreshes)
  AND (@segment = '' OR kind = @segment)
GROUP BY country, region
ORDER BY n DESC, country, region
