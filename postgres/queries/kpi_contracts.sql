-- Research contracts on $1: active (status active, not past their end) and
-- expired (status expired, or active past their end date).
SELECT
  count(*) FILTER (WHERE status = 'active' AND (end_date IS NULL OR end_date >= $1::date)),
  count(*) FILTER (WHERE status = 'expired' OR (status = 'active' AND end_date < $1::date)),
  coalesce(sum(value) FILTER (WHERE status = 'active' AND (end_date IS NULL OR end_date >= $1::date)), 0)::text
FROM research_contracts
