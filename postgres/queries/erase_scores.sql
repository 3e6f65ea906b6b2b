DELETE FROM person_scores WHERE person_id = ANY($1)
