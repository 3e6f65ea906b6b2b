-- People (latest version, not deleted) by kind, country and region, per
-- refresh (kpi/sql/rollup_people.sql).
CREATE TABLE IF NOT EXISTS rollup_people
(
    refresh_id UInt64,
    kind       String,
    country    String,
    region     String,
    people     UInt64
)
ENGINE = MergeTree
PARTITION BY refresh_id
ORDER BY (kind, country, region)
