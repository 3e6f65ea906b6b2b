-- Organisations with a partnership record, one row each (funnel_company.sql),
-- over all history: prospect, the first partnership record; contacted, the
-- first interaction (latest version, not deleted) at or after it; proposal,
-- the first time a partnership reached negotiation or active; client, the
-- first time one became active (1970 = never). With the organisation's size
-- class and sector at their latest version.
SELECT organisation_id, size_class AS size, sector, t1, t2, t3, t4
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
        PREWHERE aggregate = 'partnership'
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
        WHERE deleted = 0 AND organisation_id > 0
    ) USING organisation_id
    GROUP BY organisation_id
)
ANY LEFT JOIN
(
    SELECT id AS organisation_id, argMax(size_class, version) AS size_class, argMax(sector, version) AS sector
    FROM dim_organisations
    GROUP BY id
) USING organisation_id
