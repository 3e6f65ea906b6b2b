CREATE TABLE IF NOT EXISTS {{bi}}.src_model_evaluations
(
    model         String,
    model_version String,
    as_of         Date,
    trained_on    Date,
    evaluated_on  Date,
    examples      Int64,
    positives     Int64,
    roc_auc       Float64,
    pr_auc        Float64,
    lift_top10    Float64,
    brier         Float64,
    bayes_auc     Float64,
    calibration   String,
    details       String,
    computed_at   DateTime
)
ENGINE = ReplacingMergeTree(computed_at)
ORDER BY (model, as_of, model_version)
