UPDATE collaborations SET notes = '', version = version + 1, updated_at = now()
 WHERE (person_id = ANY($1) OR counterpart_id = ANY($1)) AND notes <> ''
