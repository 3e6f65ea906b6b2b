-- Interactions stay (counts per channel and organisation) without their free text.
UPDATE interactions SET subject = '', notes = '', version = version + 1, updated_at = now()
 WHERE person_id = ANY($1)
