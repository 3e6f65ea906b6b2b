-- Rollup (kpi.Refresh): people at their latest version, not deleted, by
-- kind, country and region ('' unknown).
INSERT INTO rollup_people (refresh_id, kind, country, region, people)
SELECT toUInt64(@refresh), kind, country, region, count()
FROM
(
    SELECT id, argMax(kind, version) AS kind, argMax(country, version) AS country,
           argMax(visitParamExtractString(payload, 'region'), version) AS region,
           argMax(deleted, version) AS deleted
    FROM dim_people
    GROUP BY id
)
WHERE deleted = 0
GROUP BY kind, country, region
