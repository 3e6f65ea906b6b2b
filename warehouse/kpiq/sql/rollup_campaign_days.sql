-- Rollup (kpi.Refresh): campaign performance by day of sending and
-- campaign. Sends at their latest version, not deleted; a send counts as
-- opened by a person, opened at all (raw: privacy proxies and scanners
-- included) or clicked by a person when any of its hits, at any time up to
-- the refresh, was one (several hits of one send count once); the campaign's
-- office at its latest version.
INSERT INTO rollup_campaign_days (refresh_id, day, campaign_id, office, sends, human_opens, raw_opens, human_clicks)
SELECT toUInt64(@refresh), toDate(sent), campaign, office,
       count(), countIf(human_open = 1), countIf(raw_open = 1), countIf(human_click = 1)
FROM
(
    SELECT campaign, sent, human_open, raw_open, human_click
    FROM
    (
        SELECT id AS send_id, argMax(campaign_id, version) AS campaign, argMax(sent_at, version) AS sent,
               argMax(deleted, version) AS gone
        FROM fact_sends
        GROUP BY id
    )
    ANY LEFT JOIN
    (
        SELECT send_id,
               max(kind = 'email.open' AND is_machine = 0) AS human_open,
               max(kind = 'email.open') AS raw_open,
               max(kind = 'email.click' AND is_machine = 0) AS human_click
        FROM tracking_events
        WHERE kind IN ('email.open', 'email.click') AND send_id > 0
        GROUP BY send_id
    ) USING send_id
    WHERE gone = 0
)
ANY LEFT JOIN
(
    SELECT id AS campaign, argMax(office, version) AS office
    FROM dim_campaigns
    GROUP BY id
) USING campaign
GROUP BY toDate(sent), campaign, office
