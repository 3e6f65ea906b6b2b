-- Student journey funnel (R1.9, R5.4): first contact → application →
-- admission → enrolment, per person and programme, for first contacts in
-- [@from, @to) and stages reached before @to. A step counts only when reached
-- after the step before it. Every segment kind in @kinds (all, source,
-- programme, country) in one pass. The journeys (programme, source, country
-- and the first time of each stage, over all history) come from the query
-- put in place of the entities marker: funnel_journey_entities.sql, or the
-- dashboards' rollup of it (package kpi).
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
           toUInt32(t2) > 0 AND t2 >= t1 AND t2 < toDateTime(@to) AS ok2,
           ok2 AND toUInt32(t3) > 0 AND t3 >= t2 AND t3 < toDateTime(@to) AS ok3,
           ok3 AND toUInt32(t4) > 0 AND t4 >= t3 AND t4 < toDateTime(@to) AS ok4
    FROM
    (
/*entities*/
    )
    WHERE toUInt32(t1) > 0 AND t1 >= toDateTime(@from) AND t1 < toDateTime(@to)
)
ARRAY JOIN ['all', 'source', 'programme', 'country'] AS kind,
           ['all', source, programme, country_or_unknown] AS segment
WHERE has(@kinds, kind)
GROUP BY kind, segment
ORDER BY kind, segment
