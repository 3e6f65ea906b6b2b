-- Research contracts (latest version before @to_day) by state as of
-- @to_day: draft, cancelled, not started (start after the day), expired
-- (ended before the day, or closed/expired without an end date), active.
-- Dates are compared as 'YYYY-MM-DD' text (multiIf evaluates every branch,
-- so a toDate of an empty date would fail).
SELECT multiIf(status IN ('draft', 'cancelled'), status,
               start != '' AND substring(start, 1, 10) > @to_day, 'not started',
               finish != '' AND substring(finish, 1, 10) < @to_day, 'expired',
               finish = '' AND status IN ('expired', 'closed'), 'expired',
               'active') AS state,
       count() AS contracts
FROM
(
    SELECT aggregate_id, argMax(visitParamExtractString(payload, 'status'), version) AS status,
           argMax(visitParamExtractString(payload, 'start_date'), version) AS start,
           argMax(visitParamExtractString(payload, 'end_date'), version) AS finish,
           argMax(type, version) AS last_type
    FROM change_log
    PREWHERE aggregate = 'research_contract'
    WHERE event_time < toDateTime(toDate(@to_day))
    GROUP BY aggregate_id
)
WHERE last_type != 'research_contract.deleted'
GROUP BY state
ORDER BY state
