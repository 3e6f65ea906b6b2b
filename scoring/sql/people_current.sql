-- Current people (latest version of each, not deleted or merged).
SELECT id, kind, graduation_year, top_category, relevance
FROM
(
    SELECT id, argMax(kind, version) AS kind, argMax(graduation_year, version) AS graduation_year,
           argMax(visitParamExtractString(payload, 'top_category'), version) AS top_category,
           argMax(visitParamExtractInt(payload, 'relevance'), version) AS relevance,
           argMax(deleted, version) AS deleted
    FROM dim_people
    GROUP BY id
)
WHERE deleted = 0
