DELETE FROM person_sources WHERE person_id = ANY($1)
