CREATE VIEW IF NOT EXISTS {{bi}}.company_clusters AS
SELECT
    as_of,
    organisation_id,
    model_version,
    toInt64(cluster_raw) AS cluster,
    cluster_label,
    pca_x,
    pca_y,
    visitParamExtractFloat(features, 'size') AS size_level,
    visitParamExtractFloat(features, 'log_revenue') AS log10_revenue,
    visitParamExtractFloat(features, 'interactions') AS interactions_12m,
    visitParamExtractFloat(features, 'placements') AS placements_12m,
    visitParamExtractFloat(features, 'log_contract_value') AS log10_contract_value_3y,
    visitParamExtractFloat(features, 'partnership_level') AS partnership_level,
    last_computed_at
FROM
(
    SELECT
        as_of,
        organisation_id,
        argMax(model_version, computed_at) AS model_version,
        argMax(cluster, computed_at) AS cluster_raw,
        argMax(label, computed_at) AS cluster_label,
        argMax(x, computed_at) AS pca_x,
        argMax(y, computed_at) AS pca_y,
        argMax(features, computed_at) AS features,
        max(computed_at) AS last_computed_at
    FROM {{bi}}.src_company_clusters
    GROUP BY as_of, organisation_id
)
