DELETE FROM person_emails WHERE person_id = ANY($1)
