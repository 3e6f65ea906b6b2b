-- Outbox rows that may carry the people $1 (ids as text in $1) or their
-- identifiers ($2: ILIKE patterns): their own rows, rows linked to them,
-- and any row whose payload mentions an identifier.
SELECT id, (aggregate_type = 'person' AND aggregate_id = ANY($1)) AS own,
       coalesce(payload->>'person_id' = ANY($1) OR payload->>'counterpart_id' = ANY($1) OR payload->>'scientific_lead_id' = ANY($1), false) AS linked,
       payload
  FROM outbox
 WHERE (aggregate_type = 'person' AND aggregate_id = ANY($1))
    OR payload->>'person_id' = ANY($1) OR payload->>'counterpart_id' = ANY($1) OR payload->>'scientific_lead_id' = ANY($1)
    OR payload::text ILIKE ANY($2)
 ORDER BY id
