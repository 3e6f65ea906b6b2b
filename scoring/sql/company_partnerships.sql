-- The most advanced partnership stage of each organisation as of @as_of:
-- 3 active, 2 negotiation, 1 prospect or lapsed.
SELECT organisation_id, max(multiIf(stage = 'active', 3, stage = 'negotiation', 2, 1)) AS level
FROM
(
    SELECT aggregate_id, argMax(visitParamExtractInt(payload, 'organisation_id'), version) AS organisation_id,
           argMax(visitParamExtractString(payload, 'stage'), version) AS stage,
           argMax(type, version) AS last_type
    FROM change_log
    WHERE aggregate = 'partnership' AND event_time < toDateTime(@as_of)
    GROUP BY aggregate_id
)
WHERE organisation_id > 0 AND last_type != 'partnership.deleted'
GROUP BY organisation_id
