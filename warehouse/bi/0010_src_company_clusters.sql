CREATE TABLE IF NOT EXISTS {{bi}}.src_company_clusters
(
    model_version   String,
    as_of           Date,
    organisation_id Int64,
    cluster         Int32,
    label           String,
    x               Float64,
    y               Float64,
    features        String,
    computed_at     DateTime
)
ENGINE = ReplacingMergeTree(computed_at)
PARTITION BY toYYYYMM(as_of)
ORDER BY (as_of, organisation_id)
