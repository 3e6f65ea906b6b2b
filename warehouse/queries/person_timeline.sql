-- A person's warehouse events for the staff workspace's timeline (package
-- workspace): campaign sends (fact_sends, the latest version of each send,
-- deleted ones left out) and tracked hits (tracking_events: opens, clicks,
-- web visits; a redelivered event counted once by its event id), newest
-- first. Parameters: person id (sends), person id (hits), row limit.
SELECT at, kind, campaign_id, status, url, is_machine
FROM
(
    SELECT argMax(sent_at, version) AS at, 'send' AS kind, argMax(campaign_id, version) AS campaign_id,
           argMax(status, version) AS status, '' AS url, toUInt8(0) AS is_machine, argMax(deleted, version) AS gone
    FROM fact_sends
    WHERE person_id = ?
    GROUP BY id
    HAVING gone = 0
    UNION ALL
    SELECT any(event_time) AS at, any(kind) AS kind, any(campaign_id) AS campaign_id,
           '' AS status, any(url) AS url, any(is_machine) AS is_machine, toUInt8(0) AS gone
    FROM tracking_events
    WHERE contact_id = ? AND kind IN ('open', 'click', 'pageview')
    GROUP BY event_id
)
ORDER BY at DESC, kind
LIMIT ?
