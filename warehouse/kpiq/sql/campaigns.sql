-- Campaign performance by month of sending, for sends in [@from_day,
-- @to_day) of campaigns of @office ('' all): sends, sends opened by a
-- person, sends opened at all (raw: privacy proxies and scanners included),
-- sends clicked by a person. From the newest rollup refresh
-- (rollup_campaign_days.sql says how each is counted).
SELECT toStartOfMonth(day) AS month, sum(sends), sum(human_opens), sum(raw_opens), sum(human_clicks)
FROM rollup_campaign_days
WHERE refresh_id = (SELECT max(refresh_id) FROM rollup_refreshes)
  AND day >= toDate(@from_day) AND day < toDate(@to_day)
  AND (@office = '' OR office = @office)
GROUP BY month
ORDER BY month
