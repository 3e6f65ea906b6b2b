CREATE TABLE IF NOT EXISTS {{bi}}.src_person_scores
(
    model           String,
    model_version   String,
    as_of           Date,
    person_id       Int64,
    score           Float64,
    level           Int32,
    label           String,
    expected_amount Float64,
    suggested_ask   Float64,
    reasons         String,
    computed_at     DateTime
)
ENGINE = ReplacingMergeTree(computed_at)
PARTITION BY toYYYYMM(as_of)
ORDER BY (model, as_of, person_id)
