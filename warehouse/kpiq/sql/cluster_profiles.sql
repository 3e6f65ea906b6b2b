-- Profile of each company cluster of one as_of day: organisations and the
-- mean of each clustering feature (raw values, from the features JSON).
SELECT cluster, any(label) AS label, count() AS organisations,
       avg(visitParamExtractFloat(features, 'size')) AS size,
       avg(visitParamExtractFloat(features, 'log_revenue')) AS log_revenue,
       avg(visitParamExtractFloat(features, 'interactions')) AS interactions,
       avg(visitParamExtractFloat(features, 'placements')) AS placements,
       avg(visitParamExtractFloat(features, 'log_contract_value')) AS log_contract_value,
       avg(visitParamExtractFloat(features, 'partnership_level')) AS partnership_level
FROM
(
    SELECT organisation_id, argMax(cluster, computed_at) AS cluster, argMax(label, computed_at) AS label,
           argMax(features, computed_at) AS features
    FROM company_clusters
    WHERE as_of = toDate(@as_of)
    GROUP BY organisation_id
)
GROUP BY cluster
ORDER BY cluster
