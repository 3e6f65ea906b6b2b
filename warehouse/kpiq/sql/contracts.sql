-- Research contracts (latest version before @to_day) by state as of
-- @to_day: draft, cancelled, not started (start after the day), expired
-- (ended before the day, or closed/expired without an end date), active.
-- From the newest rollup refresh (rollup_org_changes.sql), every version.
-- Dates are compared as 'YYYY-MM-DD' text (multiIf evaluates every branch,
-- so a toDate of an empty date would fail).
SELECT multiIf(last_status IN ('draft', 'cancelled'), last_status,
               start != '' AND substring(start, 1, 10) > @to_day, 'not started',
               finish != '' AND substring(finish, 1, 10) < @to_day, 'expired',
               finish = '' AND last_status IN ('expired', 'closed'), 'expired',
               'active') AS state,
       count() AS contracts
FROM
(
    SELECT aggregate_id, argMax(status, version) AS last_status,
           argMax(start_date, version) AS start,
           argMax(end_date, version) AS finish,
           argMax(type, version) AS last_type
    FROM rollup_org_changes
    WHERE refresh_id = (SELECT max(refresh_id) FROM rollup_refreshes)
      AND aggregate = 'research_contract' AND event_time < toDateTime(toDate(@to_day))
    GROUP BY aggregate_id
)
WHERE last_type != 'research_contract.deleted'
GROUP BY state
ORDER BY state
