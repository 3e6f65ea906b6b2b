CREATE VIEW IF NOT EXISTS {{bi}}.organisations AS
SELECT
    organisation_id,
    name,
    kind,
    status,
    sector,
    size_class,
    country,
    city,
    nullIf(parent_id_raw, 0) AS parent_organisation_id,
    created_at
FROM
(
    SELECT
        id AS organisation_id,
        argMax(name, version) AS name,
        argMax(kind, version) AS kind,
        argMax(status, version) AS status,
        argMax(sector, version) AS sector,
        argMax(size_class, version) AS size_class,
        argMax(country, version) AS country,
        argMax(city, version) AS city,
        argMax(parent_id, version) AS parent_id_raw,
        argMax(created_at, version) AS created_at,
        argMax(deleted, version) AS is_deleted
    FROM {{bi}}.src_organisations
    GROUP BY id
)
WHERE is_deleted = 0
