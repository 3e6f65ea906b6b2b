-- Rollup (kpi.Refresh): every heat snapshot (each as_of day's newest run; a
-- re-inserted batch counts once), people by level, kind of person (latest
-- version; '' for a person not in dim_people) and graduation decade (alumni
-- at their latest version, not deleted, with a graduation year; 0 for
-- everyone else).
INSERT INTO rollup_heat (refresh_id, as_of, level, kind, decade, people)
SELECT toUInt64(@refresh), as_of, level, kind,
       if(kind = 'alumnus' AND deleted = 0 AND graduation_year > 0, intDiv(graduation_year, 10) * 10, 0) AS decade,
       count()
FROM
(
    SELECT as_of, person_id, any(level) AS level
    FROM person_scores
    WHERE model = 'heat'
      AND (as_of, computed_at) IN (SELECT as_of, max(computed_at) FROM person_scores WHERE model = 'heat' GROUP BY as_of)
    GROUP BY as_of, person_id
)
ANY LEFT JOIN
(
    SELECT id AS person_id, argMax(kind, version) AS kind, argMax(graduation_year, version) AS graduation_year,
           argMax(deleted, version) AS deleted
    FROM dim_people
    GROUP BY id
) USING person_id
GROUP BY as_of, level, kind, decade
