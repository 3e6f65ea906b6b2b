-- Student journey funnel (R1.9, R5.4): first contact → application →
-- admission → enrolment, per person and programme, for first contacts in
-- [@from, @to) and stages reached before @to. A step counts only when reached
-- after the step before it. Every segment kind in @kinds (all, source,
-- programme, country) in one pass.
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
    SELECT source, programme, if(country = '', 'unknown', country) AS country_or_unknown, t1, t2, t3, t4,
           toUInt32(t2) > 0 AND t2 >= t1 AS ok2,
           ok2 AND toUInt32(t3) > 0 AND t3 >= t2 AS ok3,
           ok3 AND toUInt32(t4) > 0 AND t4 >= t3 AS ok4
    FROM
    (
        SELECT person_id, programme, any(src) AS source,
               minIf(entered_at, stage = 'first_contact') AS t1,
               minIf(entered_at, stage = 'application') AS t2,
               minIf(entered_at, stage = 'admission') AS t3,
               minIf(entered_at, stage = 'enrolment') AS t4
        FROM
        (
            SELECT id, argMax(person_id, version) AS person_id, argMax(journey, version) AS programme,
                   argMax(stage, version) AS stage, argMax(source, version) AS src,
                   argMax(entered_at, version) AS entered_at, argMax(deleted, version) AS deleted
            FROM fact_journey_stages
            GROUP BY id
        )
        WHERE deleted = 0 AND entered_at < toDateTime(@to)
        GROUP BY person_id, programme
    )
    ANY LEFT JOIN
    (
        SELECT id AS person_id, argMax(country, version) AS country
        FROM dim_people
        GROUP BY id
    ) USING person_id
    WHERE toUInt32(t1) > 0 AND t1 >= toDateTime(@from) AND t1 < toDateTime(@to)
)
ARRAY JOIN ['all', 'source', 'programme', 'country'] AS kind,
           ['all', source, programme, country_or_unknown] AS segment
WHERE has(@kinds, kind)
GROUP BY kind, segment
ORDER BY kind, segment
