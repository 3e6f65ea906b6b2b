-- The data keys of people ($1), creating those missing with the secrets
-- offered ($2, one per person). A key another relay creates at the same time
-- is in neither half (it is not in this statement's snapshot): the caller
-- asks again for what is missing.
WITH want AS (
    SELECT * FROM unnest($1::bigint[], $2::bytea[]) AS w (person_id, secret)
), created AS (
    INSERT INTO person_keys (person_id, secret)
    SELECT person_id, secret FROM want
    ON CONFLICT (person_id) DO NOTHING
    RETURNING kid, person_id, secret
)
SELECT kid, person_id, secret FROM created
UNION ALL
SELECT k.kid, k.person_id, k.secret FROM person_keys k JOIN want w USING (person_id)
