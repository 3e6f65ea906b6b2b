-- Company lifecycle funnel (R5.4): prospect → contacted → proposal → client.
-- Prospect: the first partnership record of an organisation; contacted: the
-- first interaction with it at or after that; proposal: the first time a
-- partnership reached negotiation; client: the first time one became active.
-- For prospects in [@from, @to). Every segment kind in @kinds (all, size,
-- sector — the functional area) in one pass.
SELECT kind, segment,
       count() AS s1,
       countIf(ok2) AS s2,
       countIf(ok3) AS s3,
       countIf(ok4) AS s4,
       quantileExactIf(0.5)((toUInt32(t2) - toUInt32(t1)) / 3600, ok2) AS h2,
       quantileExactIf(0.5)((toUInt32(t3) - toUInt32(t2)) / 3600, ok3) AS h3,
       quantileExactIf(0.5)((toUInt32(t4) - toUInt32(t3)) / 3600, ok4) AS h4
FROM
(
    SELECT if(size_class = '', 'unknown', size_class) AS size, if(sector = '', 'unknown', sector) AS area,
           t1, t2, t3, t4,
           toUInt32(t2) > 0 AND t2 >= t1 AS ok2,
           ok2 AND toUInt32(t3) > 0 AND t3 >= t2 AS ok3,
           ok3 AND toUInt32(t4) > 0 AND t4 >= t3 AS ok4
    FROM
    (
        SELECT organisation_id, any(p1) AS t1, minIf(occurred_at, occurred_at >= p1) AS t2, any(p3) AS t3, any(p4) AS t4
        FROM
        (
            SELECT toInt64(visitParamExtractInt(payload, 'organisation_id')) AS organisation_id,
                   min(event_time) AS p1,
                   minIf(event_time, visitParamExtractString(payload, 'stage') IN ('negotiation', 'active')) AS p3,
                   minIf(event_time, visitParamExtractString(payload, 'stage') = 'active') AS p4
            FROM change_log
            WHERE aggregate = 'partnership' AND event_time < toDateTime(@to)
            GROUP BY organisation_id
        )
        ALL LEFT JOIN
        (
            SELECT organisation_id, occurred_at
            FROM
            (
                SELECT id, argMax(organisation_id, version) AS organisation_id, argMax(occurred_at, version) AS occurred_at,
                       argMax(deleted, version) AS deleted
                FROM fact_interactions
                GROUP BY id
            )
            WHERE deleted = 0 AND organisation_id > 0 AND occurred_at < toDateTime(@to)
        ) USING organisation_id
        GROUP BY organisation_id
    )
    ANY LEFT JOIN
    (
        SELECT id AS organisation_id, argMax(size_class, version) AS size_class, argMax(sector, version) AS sector
        FROM dim_organisations
        GROUP BY id
    ) USING organisation_id
    WHERE t1 >= toDateTime(@from) AND t1 < toDateTime(@to)
)
ARRAY JOIN ['all', 'size', 'sector'] AS kind, ['all', size, area] AS segment
WHERE has(@kinds, kind)
GROUP BY kind, segment
ORDER BY kind, segment
