-- A person's warehouse events for the staff workspace's timeline (package
-- workspace): campaign sends (fact_sends, the latest version of each send,
-- deleted ones left out) and tracked hits (tracking_events: opens, clicks,
-- web visits; a redelivered event counted once by its event id), newest
-- first. Parameters: person id (sends), person id (hits), row limit.
-- The aliases differ from the column names: 18.16 would read an alias of
-- an aggregate into the WHERE clause.
SELECT at, k, campaign, st, u, machine
FROM
(
    SELECT argMax(sent_at, version) AS at, 'send' AS k, argMax(campaign_id, version) AS campaign,
           argMax(status, version) AS st, '' AS u, toUInt8(0) AS machine, argMax(deleted, version) AS gone
    FROM fact_sends
    WHERE person_id = ?
    GROUP BY id
    HAVING gone = 0
    UNION ALL
    SELECT any(event_time) AS at, any(kind) AS k, any(campaign_id) AS campaign,
           '' AS st, any(url) AS u, any(is_machine) AS machine, toUInt8(0) AS gone
    FROM tracking_events
    WHERE contact_id = ? AND kind IN ('open', 'click', 'pageview')
    GROUP BY event_id
)
ORDER BY at DESC, k
LIMIT ?
