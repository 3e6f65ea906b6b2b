-- Events starting in [@from, @to) of @office ('' all), by month: events
-- with registrations, people registered (registered, attended or no-show)
-- and people who attended, only people of kind @segment unless it is ''.
-- From the newest rollup refresh (rollup_event_regs.sql).
SELECT toStartOfMonth(starts_at) AS month, uniqExact(event_id), sum(registered), sum(attended)
FROM rollup_event_regs
WHERE refresh_id = (SELECT max(refresh_id) FROM rollup_refreshes)
  AND starts_at >= toDateTime(@from) AND starts_at < toDateTime(@to)
  AND (@office = '' OR office = @office)
  AND (@segment = '' OR kind = @segment)
GROUP BY month
ORDER BY month
