-- Donor prospects, step 2: for the people step 1 chose (parameters 2, 4 and
-- 5), their donation score of the as_of day of parameter 1 (newest run),
-- the heat level of the heat scores of parameter 3, the person's latest
-- version and the last gift before the day of parameter 6; most probable
-- first.
SELECT person_id, first_name, last_name, graduation_year, degree_course, country,
       probability, tier, expected_amount, suggested_ask, reasons, heat_level,
       last_gift_at, toFloat64(last_gift_amount) AS last_gift_amount
FROM
(
    SELECT person_id, probability, tier, expected_amount, suggested_ask, reasons, heat_level,
           first_name, last_name, graduation_year, degree_course, country
    FROM
    (
        SELECT person_id, probability, tier, expected_amount, suggested_ask, reasons, heat_level
        FROM
        (
            SELECT person_id, argMax(score, computed_at) AS probability, argMax(label, computed_at) AS tier,
                   argMax(expected_amount, computed_at) AS expected_amount,
                   argMax(suggested_ask, computed_at) AS suggested_ask, argMax(reasons, computed_at) AS reasons
            FROM person_scores
            WHERE model = 'donation' AND as_of = toDate(?) AND person_id IN ?
            GROUP BY person_id
        )
        ANY LEFT JOIN
        (
            SELECT person_id, argMax(level, computed_at) AS heat_level
            FROM person_scores
            WHERE model = 'heat' AND as_of = toDate(?) AND person_id IN ?
            GROUP BY person_id
        ) USING person_id
    )
    ANY LEFT JOIN
    (
        SELECT id AS person_id, argMax(first_name, version) AS first_name, argMax(last_name, version) AS last_name,
               argMax(graduation_year, version) AS graduation_year, argMax(degree_course, version) AS degree_course,
               argMax(country, version) AS country
        FROM dim_people
        WHERE id IN ?
        GROUP BY id
    ) USING person_id
)
ANY LEFT JOIN
(
    SELECT person_id, max(donated_at) AS last_gift_at, argMax(amount, donated_at) AS last_gift_amount
    FROM
    (
        SELECT id, argMax(person_id, version) AS person_id, argMax(amount, version) AS amount,
               argMax(donated_at, version) AS donated_at, argMax(deleted, version) AS deleted
        FROM fact_donations
        GROUP BY id
    )
    WHERE deleted = 0 AND person_id > 0 AND donated_at < toDateTime(toDate(?))
    GROUP BY person_id
) USING person_id
ORDER BY probability DESC, person_id
