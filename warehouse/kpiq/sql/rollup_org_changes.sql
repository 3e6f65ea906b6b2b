-- Rollup (kpi.Refresh): every change event of partnerships and research
-- contracts, with the payload fields companies.sql and contracts.sql read.
INSERT INTO rollup_org_changes (refresh_id, aggregate, aggregate_id, version, event_time, type, organisation_id, stage, status, start_date, end_date)
SELECT toUInt64(@refresh), aggregate, aggregate_id, version, event_time, type,
       visitParamExtractInt(payload, 'organisation_id'), visitParamExtractString(payload, 'stage'),
       visitParamExtractString(payload, 'status'), visitParamExtractString(payload, 'start_date'),
       visitParamExtractString(payload, 'end_date')
FROM change_log
PREWHERE aggregate IN ('partnership', 'research_contract')
