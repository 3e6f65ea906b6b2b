-- Heat snapshots with as_of in [@from_day, @to_day]: people per level (1-4)
-- per as_of day, optionally only people of kind @segment (their latest
-- version). Each day's newest run counts (argMax over computed_at).
SELECT as_of, level, count() AS people
FROM
(
    SELECT as_of, person_id, argMax(level, computed_at) AS level
    FROM person_scores
    WHERE model = 'heat' AND as_of >= toDate(@from_day) AND as_of <= toDate(@to_day)
    GROUP BY as_of, person_id
)
WHERE @segment = '' OR person_id IN
      (SELECT id FROM (SELECT id, argMax(kind, version) AS kind FROM dim_people GROUP BY id) WHERE kind = @segment)
GROUP BY as_of, level
ORDER BY as_of, level
