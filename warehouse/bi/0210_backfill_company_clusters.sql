INSERT INTO {{bi}}.src_company_clusters
SELECT model_version, as_of, organisation_id, cluster, label, x, y, features, computed_at
FROM {{warehouse}}.company_clusters
