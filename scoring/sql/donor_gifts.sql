-- Giving history per person around @as_of: a gift in the 12 months before;
-- in how many of the four yearly windows before that; a gift in the 12
-- months after (the label when @as_of is in the past); the last gift and the
-- gifts of the five years before.
SELECT person_id,
       max(donated_at >= addYears(toDateTime(@as_of), -1) AND donated_at < toDateTime(@as_of)) AS gave_last,
       uniqExactIf(multiIf(donated_at >= addYears(toDateTime(@as_of), -2), 2,
                           donated_at >= addYears(toDateTime(@as_of), -3), 3,
                           donated_at >= addYears(toDateTime(@as_of), -4), 4, 5),
                   donated_at >= addYears(toDateTime(@as_of), -5) AND donated_at < addYears(toDateTime(@as_of), -1)) AS prior_years,
       max(donated_at >= toDateTime(@as_of) AND donated_at < addYears(toDateTime(@as_of), 1)) AS gave_next,
       argMaxIf(amount, donated_at, donated_at < toDateTime(@as_of)) AS last_amount,
       countIf(donated_at >= addYears(toDateTime(@as_of), -5) AND donated_at < toDateTime(@as_of)) AS gifts,
       sumIf(amount, donated_at >= addYears(toDateTime(@as_of), -5) AND donated_at < toDateTime(@as_of)) AS total
FROM
(
    SELECT id, argMax(person_id, version) AS person_id, argMax(donated_at, version) AS donated_at,
           toFloat64(argMax(amount, version)) AS amount, argMax(deleted, version) AS deleted
    FROM fact_donations
    GROUP BY id
)
WHERE deleted = 0 AND person_id > 0
GROUP BY person_id
