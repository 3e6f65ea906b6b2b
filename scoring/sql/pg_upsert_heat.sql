INSERT INTO person_scores (person_id, heat_level, heat_score, heat_reasons, heat_model, heat_as_of, updated_at)
SELECT s.person_id, s.level, s.score, s.reasons, $1, $2::date, now()
FROM score_stage s
JOIN people p ON p.id = s.person_id
ON CONFLICT (person_id) DO UPDATE
SET heat_level = EXCLUDED.heat_level, heat_score = EXCLUDED.heat_score, heat_reasons = EXCLUDED.heat_reasons,
    heat_model = EXCLUDED.heat_model, heat_as_of = EXCLUDED.heat_as_of, updated_at = now()
