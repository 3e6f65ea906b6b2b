-- The newest clustering of companies: per organisation its cluster, label,
-- 2-D projection and features as of the latest as_of (or the one asked for),
-- the newest computation of that day (ReplacingMergeTree dedups only at merge
-- time, hence argMax).
SELECT
    organisation_id,
    argMax(cluster, computed_at) AS cluster,
    argMax(label, computed_at) AS label,
    argMax(x, computed_at) AS x,
    argMax(y, computed_at) AS y,
    argMax(features, computed_at) AS features,
    argMax(model_version, computed_at) AS model_version,
    any(as_of) AS day
FROM company_clusters
WHERE as_of = (SELECT if(toDate(?) = toDate('1970-01-01'), max(as_of), toDate(?)) FROM company_clusters)
GROUP BY organisation_id
ORDER BY organisation_id
