-- Campaign performance by month of sending, for sends in [@from, @to) of
-- campaigns of @office ('' all): sends, sends opened by a human, sends
-- opened at all (raw: privacy proxies and scanners included), sends clicked
-- by a human. Sends and campaigns are read at their latest version, hits by
-- send (several hits of one send count once). Versions of a send are read
-- within 31 days either side of the period (the table's partitions by month
-- of sending): a send rescheduled by more than that across the period's edge
-- may count at its older date.
SELECT month,
       count() AS sends,
       countIf(human_open = 1) AS human_opens,
       countIf(raw_open = 1) AS raw_opens,
       countIf(human_click = 1) AS human_clicks
FROM
(
    SELECT send_id, toStartOfMonth(sent) AS month, campaign
    FROM
    (
        SELECT id AS send_id, argMax(campaign_id, version) AS campaign, argMax(sent_at, version) AS sent,
               argMax(deleted, version) AS gone
        FROM fact_sends
        WHERE sent_at >= toDateTime(@from) - 2678400 AND sent_at < toDateTime(@to) + 2678400
        GROUP BY id
    )
    WHERE gone = 0 AND sent >= toDateTime(@from) AND sent < toDateTime(@to)
      AND (@office = '' OR campaign IN
           (SELECT id FROM (SELECT id, argMax(office, version) AS office FROM dim_campaigns GROUP BY id) WHERE office = @office))
)
ANY LEFT JOIN
(
    SELECT send_id,
           max(kind = 'email.open' AND is_machine = 0) AS human_open,
           max(kind = 'email.open') AS raw_open,
           max(kind = 'email.click' AND is_machine = 0) AS human_click
    FROM tracking_events
    WHERE kind IN ('email.open', 'email.click') AND send_id > 0
      AND event_date >= toDate(@from_day) AND event_date < toDate(@to_day) + 31
    GROUP BY send_id
) USING send_id
GROUP BY month
ORDER BY month
