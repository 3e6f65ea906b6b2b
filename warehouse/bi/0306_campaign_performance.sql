CREATE VIEW IF NOT EXISTS {{bi}}.campaign_performance AS
SELECT
    campaign_id,
    name,
    channel,
    status,
    office,
    newsletter,
    starts_at,
    if(sent_at_raw = toDateTime(0), NULL, toNullable(sent_at_raw)) AS sent_at,
    toInt64(recipients) AS recipients,
    toInt64(opened_human) AS opened_human,
    toInt64(opened_raw) AS opened_raw,
    toInt64(clicked_human) AS clicked_human,
    toInt64(clicked_raw) AS clicked_raw,
    if(recipients > 0, toNullable(opened_human / recipients), NULL) AS open_rate_human,
    if(recipients > 0, toNullable(opened_raw / recipients), NULL) AS open_rate_raw,
    if(recipients > 0, toNullable(clicked_human / recipients), NULL) AS click_rate_human,
    if(recipients > 0, toNullable(clicked_raw / recipients), NULL) AS click_rate_raw
FROM
(
    SELECT *
    FROM
    (
        SELECT
            id AS campaign_id,
            argMax(name, version) AS name,
            argMax(channel, version) AS channel,
            argMax(status, version) AS status,
            argMax(office, version) AS office,
            argMax(newsletter, version) AS newsletter,
            argMax(starts_at, version) AS starts_at,
            argMax(sent_at, version) AS sent_at_raw,
            argMax(deleted, version) AS is_deleted
        FROM {{bi}}.src_campaigns
        GROUP BY id
    ) AS c
    ANY LEFT JOIN
    (
        SELECT campaign_id, uniqExact(id) AS recipients
        FROM
        (
            SELECT id, argMax(campaign_id, version) AS campaign_id, argMax(deleted, version) AS is_deleted
            FROM {{bi}}.src_sends
            GROUP BY id
        )
        WHERE is_deleted = 0
        GROUP BY campaign_id
    ) AS s USING (campaign_id)
) AS cs
ANY LEFT JOIN
(
    SELECT
        campaign_id,
        uniqExactIf(send_id, kind = 'email.open' AND is_machine = 0) AS opened_human,
        uniqExactIf(send_id, kind = 'email.open') AS opened_raw,
        uniqExactIf(send_id, kind = 'email.click' AND is_machine = 0) AS clicked_human,
        uniqExactIf(send_id, kind = 'email.click') AS clicked_raw
    FROM {{bi}}.src_email_hits
    WHERE send_id > 0
    GROUP BY campaign_id
) AS h USING (campaign_id)
WHERE is_deleted = 0
