-- Donations of the calendar year of the day before @to_day (the last day of
-- the period [from, to)) up to that day, by month (EUR; '' currency means EUR): amount and gifts. Latest versions only.
SELECT toStartOfMonth(donated_at) AS month, sum(toFloat64(amount)) AS amount, count() AS gifts
FROM
(
    SELECT id, argMax(amount, version) AS amount, argMax(currency, version) AS currency,
           argMax(donated_at, version) AS donated_at, argMax(deleted, version) AS deleted
    FROM fact_donations
    GROUP BY id
)
WHERE deleted = 0 AND currency IN ('', 'EUR')
  AND donated_at >= toDateTime(toStartOfYear(toDate(@to_day) - 1)) AND donated_at < toDateTime(toDate(@to_day))
GROUP BY month
ORDER BY month
