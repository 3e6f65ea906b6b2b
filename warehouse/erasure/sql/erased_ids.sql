SELECT DISTINCT person_id FROM erasures
