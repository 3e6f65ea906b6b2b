DELETE FROM person_phones WHERE person_id = ANY($1)
