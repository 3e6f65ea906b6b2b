-- The distinct donors (people; a gift of an organisation alone counts none)
-- of the donations fundraising.sql sums: same year, same days, same rule
-- (EUR; '' currency means EUR; latest versions; deleted left out).
SELECT uniqExactIf(person_id, person_id != 0) AS donors
FROM
(
    SELECT id, argMax(person_id, version) AS person_id, argMax(currency, version) AS currency,
           argMax(donated_at, version) AS donated_at, argMax(deleted, version) AS deleted
    FROM fact_donations
    GROUP BY id
)
WHERE deleted = 0 AND currency IN ('', 'EUR')
  AND donated_at >= toDateTime(toStartOfYear(toDate(@to_day) - 1)) AND donated_at < toDateTime(toDate(@to_day))
