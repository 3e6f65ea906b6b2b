CREATE MATERIALIZED VIEW IF NOT EXISTS {{bi}}.src_model_evaluations_feed TO {{bi}}.src_model_evaluations
AS SELECT model, model_version, as_of, trained_on, evaluated_on, examples, positives, roc_auc, pr_auc, lift_top10, brier, bayes_auc, calibration, details, computed_at
FROM {{warehouse}}.model_evaluations
