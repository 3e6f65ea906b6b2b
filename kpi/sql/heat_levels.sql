-- Heat snapshots with as_of in [@from_day, @to_day]: people per level (1-4)
-- per as_of day. Only each day's newest run counts (a run writes every
-- person with one computed_at; uniqExact keeps a re-inserted batch from
-- counting twice). The segment marker below becomes a filter on the kind of
-- person (latest version) when a segment is asked for (segmented.toSQL).
SELECT as_of, level, uniqExact(person_id) AS people
FROM person_scores
WHERE model = 'heat' AND as_of >= toDate(@from_day) AND as_of <= toDate(@to_day)
  AND (as_of, computed_at) IN
      (SELECT as_of, max(computed_at) FROM person_scores
       WHERE model = 'heat' AND as_of >= toDate(@from_day) AND as_of <= toDate(@to_day)
       GROUP BY as_of)
  /*segment: AND person_id IN
      (SELECT id FROM (SELECT id, argMax(kind, version) AS kind FROM dim_people GROUP BY id) WHERE kind = @segment) */
GROUP BY as_of, level
ORDER BY as_of, level
