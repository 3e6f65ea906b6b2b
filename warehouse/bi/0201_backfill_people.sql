INSERT INTO {{bi}}.src_people
SELECT id, version, deleted, kind, status, first_name, last_name, country, visitParamExtractString(payload, 'region') AS region, city, graduation_year, degree_course, visitParamExtractString(payload, 'macro_category') AS macro_category, organisation_id, created_at
FROM {{warehouse}}.dim_people
