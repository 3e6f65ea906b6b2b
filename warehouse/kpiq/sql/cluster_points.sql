-- Company clusters of the newest run of one as_of day: each organisation's
-- cluster, label and 2-D PCA position, with its name.
SELECT organisation_id, name, cluster, label, x, y, model_version
FROM
(
    SELECT organisation_id, argMax(cluster, computed_at) AS cluster, argMax(label, computed_at) AS label,
           argMax(x, computed_at) AS x, argMax(y, computed_at) AS y, argMax(model_version, computed_at) AS model_version
    FROM company_clusters
    WHERE as_of = toDate(@as_of)
    GROUP BY organisation_id
)
ANY LEFT JOIN
(
    SELECT id AS organisation_id, argMax(name, version) AS name
    FROM dim_organisations
    GROUP BY id
) USING organisation_id
ORDER BY cluster, organisation_id
