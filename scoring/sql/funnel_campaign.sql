-- Campaign funnel (R2.3, R5.4): sent → opened → clicked → registered →
-- attended, per send, for sends in [@from, @to). Opened and clicked count
-- human hits only when @human = 1, every hit (raw) when 0. Registered: the
-- recipient registered for an event within 30 days after the send; attended:
-- such a registration was attended. Segments: all, campaign, newsletter.
SELECT segment,
       count() AS s1,
       countIf(ok2) AS s2,
       countIf(ok3) AS s3,
       countIf(ok4) AS s4,
       countIf(ok5) AS s5,
       quantileExactIf(0.5)((toUInt32(t2) - toUInt32(t1)) / 3600, ok2) AS h2,
       quantileExactIf(0.5)((toUInt32(t3) - toUInt32(t2)) / 3600, ok3) AS h3,
       quantileExactIf(0.5)((toUInt32(t4) - toUInt32(t3)) / 3600, ok4) AS h4,
       quantileExactIf(0.5)((toUInt32(t5) - toUInt32(t4)) / 3600, ok5) AS h5
FROM
(
    SELECT multiIf(@segment_kind = 'campaign', campaign, @segment_kind = 'newsletter', if(newsletter = '', 'none', newsletter), 'all') AS segment,
           t1, t2, t3, t4, t5,
           toUInt32(t2) > 0 AND t2 >= t1 AS ok2,
           ok2 AND toUInt32(t3) > 0 AND t3 >= t2 AS ok3,
           ok3 AND toUInt32(t4) > 0 AND t4 >= t3 AS ok4,
           ok4 AND toUInt32(t5) > 0 AND t5 >= t4 AS ok5
    FROM
    (
        SELECT send_id, any(c) AS campaign_id, any(p1) AS t1, any(p2) AS t2, any(p3) AS t3,
               minIf(registered_at, registered_at >= p1 AND registered_at < p1 + 30 * 86400) AS t4,
               minIf(attended_at, attended = 1 AND registered_at >= p1 AND registered_at < p1 + 30 * 86400) AS t5
        FROM
        (
            SELECT send_id, campaign_id AS c, person_id, t1 AS p1, t2 AS p2, t3 AS p3
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
                       minIf(event_time, kind = 'email.open') AS t2,
                       minIf(event_time, kind = 'email.click') AS t3
                FROM tracking_events
                WHERE kind IN ('email.open', 'email.click') AND send_id > 0 AND (@human = 0 OR is_machine = 0)
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
        SELECT id AS campaign_id, argMax(name, version) AS campaign, argMax(visitParamExtractString(payload, 'newsletter'), version) AS newsletter
        FROM dim_campaigns
        GROUP BY id
    ) USING campaign_id
)
GROUP BY segment
ORDER BY segment
