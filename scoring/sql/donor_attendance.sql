-- Events attended per person in the 12 months before @as_of.
SELECT person_id, count() AS n_attended
FROM
(
    SELECT id, argMax(person_id, version) AS person_id, argMax(attended, version) AS attended,
           argMax(attended_at, version) AS attended_at, argMax(deleted, version) AS deleted
    FROM fact_registrations
    GROUP BY id
)
WHERE deleted = 0 AND attended = 1
  AND attended_at >= addYears(toDateTime(@as_of), -1) AND attended_at < toDateTime(@as_of)
GROUP BY person_id
