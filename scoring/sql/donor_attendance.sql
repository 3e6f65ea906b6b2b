-- Events attended per person in the 12 and the 24 months before @as_of, as
-- recorded before @as_of (a registration's latest version among its changes
-- made before @as_of; fact_registrations keeps each version until a merge,
-- and a merge keeps the newest, so an attendance recorded after @as_of is
-- left out either way).
SELECT person_id,
       countIf(attended_at >= addYears(toDateTime(@as_of), -1)) AS attended_12,
       count() AS attended_24
FROM
(
    SELECT id, argMax(person_id, version) AS person_id, argMax(attended, version) AS attended,
           argMax(attended_at, version) AS attended_at, argMax(deleted, version) AS deleted
    FROM fact_registrations
    WHERE changed_at < toDateTime(@as_of)
    GROUP BY id
)
WHERE deleted = 0 AND attended = 1
  AND attended_at >= addYears(toDateTime(@as_of), -2) AND attended_at < toDateTime(@as_of)
GROUP BY person_id
