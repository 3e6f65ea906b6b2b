-- Donations in EUR from the first of January of $1's year up to $1 included.
SELECT coalesce(sum(amount), 0)::text, count(*), count(DISTINCT person_id)
FROM donations
WHERE currency = 'EUR'
  AND donated_on >= date_trunc('year', $1::date)::date
  AND donated_on <= $1::date
