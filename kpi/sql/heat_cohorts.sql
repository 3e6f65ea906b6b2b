-- Heat of alumni by graduation decade, per heat snapshot with as_of in
-- [@from_day, @to_day] (each day's newest run): people, mean heat level
-- (1-4) and how many are warm or hot (level 3 or 4). People are read only
-- if some version of them is an alumnus (every version of those, so the
-- latest still decides).
SELECT as_of, decade, count() AS people, avg(level) AS mean_level, countIf(level >= 3) AS warm
FROM
(
    SELECT as_of, person_id, any(level) AS level
    FROM person_scores
    WHERE model = 'heat' AND as_of >= toDate(@from_day) AND as_of <= toDate(@to_day)
      AND (as_of, computed_at) IN
          (SELECT as_of, max(computed_at) FROM person_scores
           WHERE model = 'heat' AND as_of >= toDate(@from_day) AND as_of <= toDate(@to_day)
           GROUP BY as_of)
    GROUP BY as_of, person_id
)
ALL INNER JOIN
(
    SELECT person_id, intDiv(graduation_year, 10) * 10 AS decade
    FROM
    (
        SELECT id AS person_id, argMax(kind, version) AS kind, argMax(graduation_year, version) AS graduation_year,
               argMax(deleted, version) AS deleted
        FROM dim_people
        WHERE id IN (SELECT id FROM dim_people WHERE kind = 'alumnus')
        GROUP BY id
    )
    WHERE deleted = 0 AND kind = 'alumnus' AND graduation_year > 0
) USING person_id
GROUP BY as_of, decade
ORDER BY as_of, decade
