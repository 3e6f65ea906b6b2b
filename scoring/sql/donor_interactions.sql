-- Staff interactions with each person in the 12 months before @as_of, as
-- recorded before @as_of.
SELECT person_id, count() AS n
FROM
(
    SELECT id, argMax(person_id, version) AS person_id, argMax(occurred_at, version) AS occurred_at, argMax(deleted, version) AS deleted
    FROM fact_interactions
    WHERE changed_at < toDateTime(@as_of)
    GROUP BY id
)
WHERE deleted = 0 AND person_id > 0 AND occurred_at >= addYears(toDateTime(@as_of), -1) AND occurred_at < toDateTime(@as_of)
GROUP BY person_id
