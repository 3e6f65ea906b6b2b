CREATE MATERIALIZED VIEW IF NOT EXISTS {{bi}}.src_organisations_feed TO {{bi}}.src_organisations
AS SELECT id, version, deleted, name, kind, status, sector, size_class, country, city, parent_id, created_at
FROM {{warehouse}}.dim_organisations
