CREATE TABLE IF NOT EXISTS synthetic_runs
(
    scale       String,
    seed        Int64,
    as_of       Date,
    people      Int64,
    finished_at DateTime
)
ENGINE = MergeTree()
ORDER BY finished_at
