-- The scientific lead's name as text; the contract and its value stay.
UPDATE research_contracts SET scientific_lead = '', version = version + 1, updated_at = now()
 WHERE scientific_lead_id = ANY($1) AND scientific_lead <> ''
