-- Consent decisions stay as evidence (purpose, granted, when, source); the guardian's name goes.
UPDATE consents SET guardian_name = '', version = version + 1, updated_at = now()
 WHERE person_id = ANY($1) AND guardian_name <> ''
