-- Rollup (kpi.Refresh): the organisations of scoring's
-- funnel_company_entities.sql, put in place of the entities marker.
INSERT INTO rollup_company_funnel (refresh_id, organisation_id, size, sector, t1, t2, t3, t4)
SELECT toUInt64(@refresh), organisation_id, size, sector, t1, t2, t3, t4
FROM
(
/*entities*/
)
