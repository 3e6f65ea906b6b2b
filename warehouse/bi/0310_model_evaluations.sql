CREATE VIEW IF NOT EXISTS {{bi}}.model_evaluations AS
SELECT
    model,
    as_of,
    model_version,
    argMax(trained_on, computed_at) AS trained_on,
    argMax(evaluated_on, computed_at) AS evaluated_on,
    argMax(examples, computed_at) AS examples,
    argMax(positives, computed_at) AS positives,
    argMax(roc_auc, computed_at) AS roc_auc,
    argMax(pr_auc, computed_at) AS pr_auc,
    argMax(lift_top10, computed_at) AS lift_top_decile,
    argMax(brier, computed_at) AS brier_score,
    argMax(bayes_auc, computed_at) AS bayes_auc,
    max(computed_at) AS last_computed_at
FROM {{bi}}.src_model_evaluations
GROUP BY model, as_of, model_version
