-- Alumni who had graduated before the year of @as_of: the population a
-- donation model scores.
SELECT id, graduation_year, top_category
FROM
(
    SELECT id, argMax(kind, version) AS kind, argMax(graduation_year, version) AS graduation_year,
           argMax(visitParamExtractString(payload, 'top_category'), version) AS top_category,
           argMax(deleted, version) AS deleted
    FROM dim_people
    GROUP BY id
)
WHERE kind = 'alumnus' AND deleted = 0 AND graduation_year > 0 AND graduation_year < toYear(toDateTime(@as_of))
