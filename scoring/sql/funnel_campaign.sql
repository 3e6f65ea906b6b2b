-- Campaign funnel (R2.3, R5.4): sent → opened → clicked → registered →
-- attended, per send, for sends in [@from, @to), in two variants from one
-- pass: opens and clicks by people only (columns *_h) and every hit, machine
-- ones included (raw, *_r). Registered: the recipient registered for an
-- event within 30 days after the send, after clicking; attended: such a
-- registration was attended. Every segment kind in @kinds (all, newsletter,
-- campaign) in one pass.
SELECT kind, segment,
       count() AS s1,
       countIf(ok2h) AS s2h, countIf(ok3h) AS s3h, countIf(ok4h) AS s4h, countIf(ok5h) AS s5h,
       quantileExactIf(0.5)((toUInt32(t2h) - toUInt32(t1)) / 3600, ok2h) AS h2h,
       quantileExactIf(0.5)((toUInt32(t3h) - toUInt32(t2h)) / 3600, ok3h) AS h3h,
       quantileExactIf(0.5)((toUInt32(t4) - toUInt32(t3h)) / 3600, ok4h) AS h4h,
       quantileExactIf(0.5)((toUInt32(t5) - toUInt32(t4)) / 3600, ok5h) AS h5h,
       countIf(ok2r) AS s2r, countIf(ok3r) AS s3r, countIf(ok4r) AS s4r, countIf(ok5r) AS s5r,
       quantileExactIf(0.5)((toUInt32(t2r) - toUInt32(t1)) / 3600, ok2r) AS h2r,
       quantileExactIf(0.5)((toUInt32(t3r) - toUInt32(t2r)) / 3600, ok3r) AS h3r,
       quantileExactIf(0.5)((toUInt32(t4) - toUInt32(t3r)) / 3600, ok4r) AS h4r,
       quantileExactIf(0.5)((toUInt32(t5) - toUInt32(t4)) / 3600, ok5r) AS h5r
FROM
(
    SELECT newsletter_or_none, campaign, t1, t2h, t3h, t2r, t3r, t4, t5,
           toUInt32(t2h) > 0 AND t2h >= t1 AS ok2h,
           ok2h AND toUInt32(t3h) > 0 AND t3h >= t2h AS ok3h,
           ok3h AND toUInt32(t4) > 0 AND t4 >= t3h AS ok4h,
           ok4h AND toUInt32(t5) > 0 AND t5 >= t4 AS ok5h,
           toUInt32(t2r) > 0 AND t2r >= t1 AS ok2r,
           ok2r AND toUInt32(t3r) > 0 AND t3r >= t2r AS ok3r,
           ok3r AND toUInt32(t4) > 0 AND t4 >= t3r AS ok4r,
           ok4r AND toUInt32(t5) > 0 AND t5 >= t4 AS ok5r
    FROM
    (
        SELECT send_id, any(c) AS campaign_id, any(p1) AS t1,
               any(p2h) AS t2h, any(p3h) AS t3h, any(p2r) AS t2r, any(p3r) AS t3r,
               minIf(registered_at, registered_at >= p1 AND registered_at < p1 + 30 * 86400) AS t4,
               minIf(attended_at, attended = 1 AND registered_at >= p1 AND registered_at < p1 + 30 * 86400) AS t5
        FROM
        (
            SELECT send_id, campaign_id AS c, person_id, t1 AS p1, t2h AS p2h, t3h AS p3h, t2r AS p2r, t3r AS p3r
            FROM
            (
                SELECT id AS send_id, argMax(campaign_id, version) AS campaign_id, argMax(person_id, version) AS person_id,
                       argMax(sent_at, version) AS t1, argMax(deleted, version) AS deleted
                FROM fact_sends
                GROUP BY id
                HAVING deleted = 0 AND t1 >= toDateTime(@from) AND t1 < toDateTime(@to)
            )
            ANY LEFT JOIN
            (
                SELECT send_id,
                       minIf(event_time, kind = 'email.open' AND is_machine = 0) AS t2h,
                       minIf(event_time, kind = 'email.click' AND is_machine = 0) AS t3h,
                       minIf(event_time, kind = 'email.open') AS t2r,
                       minIf(event_time, kind = 'email.click') AS t3r
                FROM tracking_events
                WHERE kind IN ('email.open', 'email.click') AND send_id > 0
                GROUP BY send_id
            ) USING send_id
        )
        ALL LEFT JOIN
        (
            SELECT person_id, registered_at, attended_at, attended
            FROM
            (
                SELECT id, argMax(person_id, version) AS person_id, argMax(registered_at, version) AS registered_at,
                       argMax(attended_at, version) AS attended_at, argMax(attended, version) AS attended,
                       argMax(status, version) AS status, argMax(deleted, version) AS deleted
                FROM fact_registrations
                GROUP BY id
            )
            WHERE deleted = 0 AND status IN ('registered', 'attended', 'no_show')
        ) USING person_id
        GROUP BY send_id
    )
    ANY LEFT JOIN
    (
        SELECT id AS campaign_id, argMax(name, version) AS campaign,
               if(argMax(visitParamExtractString(payload, 'newsletter'), version) = '', 'none',
                  argMax(visitParamExtractString(payload, 'newsletter'), version)) AS newsletter_or_none
        FROM dim_campaigns
        GROUP BY id
    ) USING campaign_id
)
ARRAY JOIN ['all', 'newsletter', 'campaign'] AS kind, ['all', newsletter_or_none, campaign] AS segment
WHERE has(@kinds, kind)
GROUP BY kind, segment
ORDER BY kind, segment
