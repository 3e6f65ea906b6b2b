-- Campaign performance by day of sending and campaign, per refresh
-- (kpi/sql/rollup_campaign_days.sql): sends (latest version, not deleted),
-- sends opened by a person, opened at all, clicked by a person.
CREATE TABLE IF NOT EXISTS rollup_campaign_days
(
    refresh_id   UInt64,
    day          Date,
    campaign_id  Int64,
    office       String,
    sends        UInt64,
    human_opens  UInt64,
    raw_opens    UInt64,
    human_clicks UInt64
)
ENGINE = MergeTree
PARTITION BY refresh_id
ORDER BY (day, campaign_id)
