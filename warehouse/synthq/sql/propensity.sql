CREATE TABLE IF NOT EXISTS synthetic_propensity
(
    person_id  Int64,
    year       Int32,
    propensity Float64,
    gave       UInt8,
    known      UInt8,
    seed       Int64,
    scale      String
)
ENGINE = ReplacingMergeTree()
ORDER BY (year, person_id)
