-- A role at a named organisation identifies a person on its own.
DELETE FROM affiliations WHERE person_id = ANY($1)
