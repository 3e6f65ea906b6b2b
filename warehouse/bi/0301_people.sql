CREATE VIEW IF NOT EXISTS {{bi}}.people AS
SELECT
    person_id,
    kind,
    status,
    first_name,
    last_name,
    country,
    region,
    city,
    nullIf(graduation_year_raw, 0) AS graduation_year,
    degree_course,
    degree_area,
    nullIf(organisation_id_raw, 0) AS organisation_id,
    created_at,
    toInt64(heat_level_raw) AS heat_level,
    heat_label,
    heat_score,
    if(has_heat = 1, toNullable(heat_as_of_raw), NULL) AS heat_as_of,
    if(has_donor = 1, toNullable(donor_probability_raw), NULL) AS donor_probability,
    donor_tier,
    if(has_donor = 1, toNullable(donor_expected_amount_raw), NULL) AS donor_expected_amount_eur,
    if(has_donor = 1, toNullable(donor_suggested_ask_raw), NULL) AS donor_suggested_ask_eur,
    donor_reasons,
    if(has_donor = 1, toNullable(donor_as_of_raw), NULL) AS donor_as_of
FROM
(
    SELECT *
    FROM
    (
        SELECT *
        FROM
        (
            SELECT
                id AS person_id,
                argMax(kind, version) AS kind,
                argMax(status, version) AS status,
                argMax(first_name, version) AS first_name,
                argMax(last_name, version) AS last_name,
                argMax(country, version) AS country,
                argMax(region, version) AS region,
                argMax(city, version) AS city,
                argMax(graduation_year, version) AS graduation_year_raw,
                argMax(degree_course, version) AS degree_course,
                argMax(macro_category, version) AS degree_area,
                argMax(organisation_id, version) AS organisation_id_raw,
                argMax(created_at, version) AS created_at,
                argMax(deleted, version) AS is_deleted
            FROM {{bi}}.src_people
            GROUP BY id
        )
        WHERE is_deleted = 0
    ) AS p
    ANY LEFT JOIN
    (
        SELECT
            person_id,
            toUInt8(1) AS has_heat,
            argMax(level, (as_of, computed_at)) AS heat_level_raw,
            argMax(label, (as_of, computed_at)) AS heat_label,
            argMax(score, (as_of, computed_at)) AS heat_score,
            max(as_of) AS heat_as_of_raw
        FROM {{bi}}.src_person_scores
        WHERE model = 'heat'
        GROUP BY person_id
    ) AS h USING (person_id)
) AS ph
ANY LEFT JOIN
(
    SELECT
        person_id,
        toUInt8(1) AS has_donor,
        argMax(score, (as_of, computed_at)) AS donor_probability_raw,
        argMax(label, (as_of, computed_at)) AS donor_tier,
        argMax(expected_amount, (as_of, computed_at)) AS donor_expected_amount_raw,
        argMax(suggested_ask, (as_of, computed_at)) AS donor_suggested_ask_raw,
        arrayStringConcat(extractAll(argMax(reasons, (as_of, computed_at)), '"text":"([^"]*)"'), '; ') AS donor_reasons,
        max(as_of) AS donor_as_of_raw
    FROM {{bi}}.src_person_scores
    WHERE model = 'donation'
    GROUP BY person_id
) AS d USING (person_id)
