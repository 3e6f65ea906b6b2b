INSERT INTO {{bi}}.src_organisations
SELECT id, version, deleted, name, kind, status, sector, size_class, country, city, parent_id, created_at
FROM {{warehouse}}.dim_organisations
