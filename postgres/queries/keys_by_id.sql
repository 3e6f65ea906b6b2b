-- Data keys by key id; a kid not returned was destroyed by an erasure.
SELECT kid, person_id, secret FROM person_keys WHERE kid = ANY($1)
