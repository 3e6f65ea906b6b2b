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
    FROM (
        -- collaborations as recorded before @as_of (point in time: the change log keeps every version)
        SELECT argMax(visitParamExtractInt(payload, 'person_id'), version) AS person_id,
               argMax(visitParamExtractInt(payload, 'organisation_id'), version) AS organisation_id,
               argMax(visitParamExtractString(payload, 'kind'), version) AS kind,
               toDate(if(argMax(visitParamExtractString(payload, 'start_date'), version) = '', '1970-01-01',
                         substring(argMax(visitParamExtractString(payload, 'start_date'), version), 1, 10))) AS start_date,
               argMax(type, version) AS last_type
        FROM change_log
        WHERE aggregate = 'collaboration' AND event_time < toDateTime(@as_of)
        GROUP BY aggregate_id
        HAVING last_type != 'collaboration.deleted'
    )
    WHERE kind = 'internship_host' AND organisation_id > 0 AND toUInt16(start_date) > 0
      AND start_date >= toDate(addYears(toDateTime(@as_of), -1)) AND start_date < toDate(toDateTime(@as_of))
    GROUP BY organisation_id
)
GROUP BY organisation_id
