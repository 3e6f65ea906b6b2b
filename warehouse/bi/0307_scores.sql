CREATE VIEW IF NOT EXISTS {{bi}}.scores AS
SELECT
    model,
    as_of,
    person_id,
    argMax(model_version, computed_at) AS model_version,
    argMax(score, computed_at) AS score,
    toInt64(argMax(level, computed_at)) AS level,
    argMax(label, computed_at) AS label,
    argMax(expected_amount, computed_at) AS expected_amount_eur,
    argMax(suggested_ask, computed_at) AS suggested_ask_eur,
    max(computed_at) AS last_computed_at
FROM {{bi}}.src_person_scores
GROUP BY model, as_of, person_id
