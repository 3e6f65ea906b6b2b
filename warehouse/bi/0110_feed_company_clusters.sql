CREATE MATERIALIZED VIEW IF NOT EXISTS {{bi}}.src_company_clusters_feed TO {{bi}}.src_company_clusters
AS SELECT model_version, as_of, organisation_id, cluster, label, x, y, features, computed_at
FROM {{warehouse}}.company_clusters
