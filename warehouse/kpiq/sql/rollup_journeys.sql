-- Rollup (kpi.Refresh): the student journeys of scoring's
-- funnel_journey_entities.sql, put in place of the entities marker.
INSERT INTO rollup_journeys (refresh_id, programme, source, country, t1, t2, t3, t4)
SELECT toUInt64(@refresh), programme, source, country, t1, t2, t3, t4
FROM
(
/*entities*/
)
