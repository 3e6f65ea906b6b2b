-- Company lifecycle funnel (R5.4): prospect → contacted → proposal → client,
-- for organisations whose first partnership record is in [@from, @to), steps
-- reached before @to. A step counts only when reached after the step before
-- it. Every segment kind in @kinds (all, size, sector — the functional
-- area) in one pass. The organisations (size, sector and the first time of
-- each step, over all history) come from the query put in place of the
-- entities marker: funnel_company_entities.sql, or the dashboards' rollup of
-- it (package kpi).
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
    SELECT if(size = '', 'unknown', size) AS size_or_unknown, if(sector = '', 'unknown', sector) AS area,
           t1, t2, t3, t4,
           toUInt32(t2) > 0 AND t2 >= t1 AND t2 < toDateTime(@to) AS ok2,
           ok2 AND toUInt32(t3) > 0 AND t3 >= t2 AND t3 < toDateTime(@to) AS ok3,
           ok3 AND toUInt32(t4) > 0 AND t4 >= t3 AND t4 < toDateTime(@to) AS ok4
    FROM
    (
/*entities*/
    )
    WHERE t1 >= toDateTime(@from) AND t1 < toDateTime(@to)
)
ARRAY JOIN ['all', 'size', 'sector'] AS kind, ['all', size_or_unknown, area] AS segment
WHERE has(@kinds, kind)
GROUP BY kind, segment
ORDER BY kind, segment
