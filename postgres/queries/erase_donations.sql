-- Donations stay with amount, date and donor id (the accounts need them), without free text.
UPDATE donations SET purpose_detail = '', version = version + 1, updated_at = now()
 WHERE person_id = ANY($1) AND purpose_detail <> ''
