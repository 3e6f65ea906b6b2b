-- Donations of the calendar year of the day before @to_day (the last day of
-- the period [from, to)) up to that day, by month (EUR; '' currency means EUR): amount, gifts
-- and distinct donors (people; an organisation's gift counts none). Latest
-- versions only. The totals row (WITH TOTALS) holds the year's figures, so
-- the donors of the year are counted once, not summed over months.
SELECT toStartOfMonth(donated_at) AS month, sum(toFloat64(amount)) AS amount, count() AS gifts,
       uniqExactIf(person_id, person_id != 0) AS donors
FROM
(
    SELECT id, argMax(person_id, version) AS person_id, argMax(amount, version) AS amount, argMax(currency, version) AS currency,
           argMax(donated_at, version) AS donated_at, argMax(deleted, version) AS deleted
    FROM fact_donations
    GROUP BY id
)
WHERE deleted = 0 AND currency IN ('', 'EUR')
  AND donated_at >= toDateTime(toStartOfYear(toDate(@to_day) - 1)) AND donated_at < toDateTime(toDate(@to_day))
GROUP BY month WITH TOTALS
ORDER BY month
