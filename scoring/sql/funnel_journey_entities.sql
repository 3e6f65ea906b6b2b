-- Student journeys, one row per person and programme (funnel_journey.sql):
-- the first time each stage was entered (stage records at their latest
-- version, not deleted; 1970 = never), over all history (the funnel checks
-- each time against its period: the first time before a day is the first
-- time, if it is before that day), the journey's source and the person's
-- country (latest version; '' unknown).
SELECT programme, source, country, t1, t2, t3, t4
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
    WHERE deleted = 0
    GROUP BY person_id, programme
)
ANY LEFT JOIN
(
    SELECT id AS person_id, argMax(country, version) AS country
    FROM dim_people
    WHERE id IN (SELECT person_id FROM fact_journey_stages)
    GROUP BY id
) USING person_id
