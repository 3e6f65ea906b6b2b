-- Company lifecycle, one row per organisation with a partnership, per
-- refresh (kpi/sql/rollup_company_funnel.sql): first partnership record
-- (prospect), first interaction at or after it (contacted), first
-- negotiation or active stage (proposal), first active stage (client);
-- 1970 = never. With the organisation's size class and sector.
CREATE TABLE IF NOT EXISTS rollup_company_funnel
(
    refresh_id      UInt64,
    organisation_id Int64,
    size            String,
    sector          String,
    t1              DateTime,
    t2              DateTime,
    t3              DateTime,
    t4              DateTime
)
ENGINE = MergeTree
PARTITION BY refresh_id
ORDER BY (t1, organisation_id)
