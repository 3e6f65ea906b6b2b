-- People (latest version, not deleted or merged) by country and region,
-- optionally only of kind @segment. Unknown country or region is ''.
SELECT country, region, count() AS people
FROM
(
    SELECT id, argMax(kind, version) AS kind, argMax(country, version) AS country,
           argMax(visitParamExtractString(payload, 'region'), version) AS region,
           argMax(deleted, version) AS deleted
    FROM dim_people
    GROUP BY id
)
WHERE deleted = 0 AND (@segment = '' OR kind = @segment)
GROUP BY country, region
ORDER BY people DESC, country, region
