-- Student journeys, one row per person and programme, per refresh
-- (kpi/sql/rollup_journeys.sql): the first time each stage was entered
-- (latest version of each stage record, not deleted; 1970 = never), the
-- source of the journey and the person's country. No person id: the funnel
-- needs none, and an erased person's journey carries nothing to identify.
CREATE TABLE IF NOT EXISTS rollup_journeys
(
    refresh_id UInt64,
    programme  String,
    source     String,
    country    String,
    t1         DateTime,
    t2         DateTime,
    t3         DateTime,
    t4         DateTime
)
ENGINE = MergeTree
PARTITION BY refresh_id
ORDER BY (t1, programme)
