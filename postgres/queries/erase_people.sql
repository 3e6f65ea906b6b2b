-- Anonymise the people $1: everything that identifies them goes; the id,
-- kind, status, merge link, owning offices, minor flag and timestamps stay.
UPDATE people
   SET first_name = '', last_name = '', first_name_ascii = '', last_name_ascii = '',
       birth_date = NULL, language = '', nationality = '',
       country = '', region = '', province = '', city = '',
       graduation_year = NULL, degree_course = '', macro_category = '', top_category = '', relevance = NULL,
       competences = '{}', tags = '{}', extra = '{}',
       source = '', source_id = '',
       version = version + 1, updated_at = now()
 WHERE id = ANY($1)
