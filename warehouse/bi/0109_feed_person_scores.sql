CREATE MATERIALIZED VIEW IF NOT EXISTS {{bi}}.src_person_scores_feed TO {{bi}}.src_person_scores
AS SELECT model, model_version, as_of, person_id, score, level, label, expected_amount, suggested_ask, reasons, computed_at
FROM {{warehouse}}.person_scores
