-- Heat snapshots, per refresh (kpi/sql/rollup_heat.sql): for each as_of
-- day's newest run of the heat model, people by level, kind of person
-- (latest version) and graduation decade (alumni not deleted with a
-- graduation year; 0 for everyone else).
CREATE TABLE IF NOT EXISTS rollup_heat
(
    refresh_id UInt64,
    as_of      Date,
    level      Int32,
    kind       String,
    decade     Int64,
    people     UInt64
)
ENGINE = MergeTree
PARTITION BY refresh_id
ORDER BY (as_of, level, kind, decade)
