-- The change events of partnerships and research contracts, per refresh
-- (kpi/sql/rollup_org_changes.sql), with the payload fields the companies
-- widget reads: a few thousand rows instead of the change log's millions, so
-- that "active partners" and "contracts by state" as of any day stay live
-- queries over every version.
CREATE TABLE IF NOT EXISTS rollup_org_changes
(
    refresh_id      UInt64,
    aggregate       String,
    aggregate_id    String,
    version         UInt64,
    event_time      DateTime,
    type            String,
    organisation_id Int64,
    stage           String,
    status          String,
    start_date      String,
    end_date        String
)
ENGINE = MergeTree
PARTITION BY refresh_id
ORDER BY (aggregate, aggregate_id, version)
