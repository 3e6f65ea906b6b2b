-- Organisations with an active partnership, and all active organisations.
SELECT
  (SELECT count(DISTINCT p.organisation_id) FROM partnerships p
     JOIN organisations o ON o.id = p.organisation_id
    WHERE p.stage = 'active' AND o.status = 'active'
      AND (p.start_date IS NULL OR p.start_date <= $1::date)
      AND (p.end_date IS NULL OR p.end_date >= $1::date)),
  (SELECT count(*) FROM organisations WHERE status = 'active')
