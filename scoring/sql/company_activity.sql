-- Per organisation, in the 12 months before @as_of: interactions of the
-- account offices, and placement activity (career-service interactions such
-- as job offers and career days, plus internships hosted).
SELECT organisation_id, sum(interactions) AS interactions, sum(placements) AS placements
FROM
(
    SELECT organisation_id, countIf(office != 'career') AS interactions, countIf(office = 'career') AS placements
    FROM
    (
        SELECT id, argMax(organisation_id, version) AS organisation_id, argMax(occurred_at, version) AS occurred_at,
               argMax(visitParamExtractString(payload, 'office'), version) AS office, argMax(deleted, version) AS deleted
        FROM fact_interactions
        GROUP BY id
    )
    WHERE deleted = 0 AND organisation_id > 0
      AND occurred_at >= addYears(toDateTime(@as_of), -1) AND occurred_at < toDateTime(@as_of)
    GROUP BY organisation_id

    UNION ALL

    SELECT organisation_id, toUInt64(0) AS interactions, count() AS placements
    FROM collaborations_current
    WHERE kind = 'internship_host' AND organisation_id > 0 AND toUInt16(start_date) > 0
      AND start_date >= toDate(addYears(toDateTime(@as_of), -1)) AND start_date < toDate(toDateTime(@as_of))
    GROUP BY organisation_id
)
GROUP BY organisation_id
