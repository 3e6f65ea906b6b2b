INSERT INTO organisation_clusters (organisation_id, cluster, label, model, as_of, updated_at)
SELECT s.organisation_id, s.cluster, s.label, $1, $2::date, now()
FROM cluster_stage s
JOIN organisations o ON o.id = s.organisation_id
ON CONFLICT (organisation_id) DO UPDATE
SET cluster = EXCLUDED.cluster, label = EXCLUDED.label, model = EXCLUDED.model, as_of = EXCLUDED.as_of, updated_at = now()
