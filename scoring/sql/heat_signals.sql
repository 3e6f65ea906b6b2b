-- Engagement signals per person and kind, decayed to @as_of with each kind's
-- half-life (transform(signal, @kinds, @half_lives, @default_half_life)).
-- Every source dedups: tracking hits by event id, versioned facts by argMax
-- over version. Only human (is_machine = 0) opens and clicks count.
SELECT person_id, signal, count() AS n,
       sum(pow(0.5, (toUInt32(toDateTime(@as_of)) - toUInt32(at)) / 86400 / transform(signal, @kinds, @half_lives, @default_half_life))) AS decayed
FROM
(
    SELECT contact_id AS person_id,
           multiIf(kind = 'email.open', 'email_open', kind = 'email.click', 'email_click', 'web_visit') AS signal,
           min(event_time) AS at
    FROM tracking_events
    WHERE contact_id > 0 AND is_machine = 0 AND kind IN ('email.open', 'email.click', 'web.pageview')
      AND event_time < toDateTime(@as_of)
    GROUP BY event_id, contact_id, kind

    UNION ALL

    SELECT person_id, if(attended = 1, 'event_attended', 'event_registered') AS signal, if(attended = 1, attended_at, registered_at) AS at
    FROM
    (
        SELECT id, argMax(person_id, version) AS person_id, argMax(attended, version) AS attended,
               argMax(attended_at, version) AS attended_at, argMax(registered_at, version) AS registered_at,
               argMax(status, version) AS status, argMax(deleted, version) AS deleted
        FROM fact_registrations
        GROUP BY id
    )
    WHERE deleted = 0 AND status IN ('registered', 'attended', 'no_show') AND at < toDateTime(@as_of)

    UNION ALL

    SELECT person_id, 'donation' AS signal, donated_at AS at
    FROM
    (
        SELECT id, argMax(person_id, version) AS person_id, argMax(donated_at, version) AS donated_at, argMax(deleted, version) AS deleted
        FROM fact_donations
        GROUP BY id
    )
    WHERE deleted = 0 AND person_id > 0 AND at < toDateTime(@as_of)

    UNION ALL

    SELECT person_id, if(direction = 'inbound' AND channel = 'email', 'reply', 'interaction') AS signal, occurred_at AS at
    FROM
    (
        SELECT id, argMax(person_id, version) AS person_id, argMax(occurred_at, version) AS occurred_at,
               argMax(channel, version) AS channel, argMax(visitParamExtractString(payload, 'direction'), version) AS direction,
               argMax(deleted, version) AS deleted
        FROM fact_interactions
        GROUP BY id
    )
    WHERE deleted = 0 AND person_id > 0 AND at < toDateTime(@as_of)

    UNION ALL

    SELECT person_id, 'mentoring' AS signal, toDateTime(start_date) AS at
    FROM (
        -- collaborations as recorded before @as_of (point in time: the change log keeps every version)
        SELECT argMax(visitParamExtractInt(payload, 'person_id'), version) AS person_id,
               argMax(visitParamExtractInt(payload, 'organisation_id'), version) AS organisation_id,
               argMax(visitParamExtractString(payload, 'kind'), version) AS kind,
               toDate(if(argMax(visitParamExtractString(payload, 'start_date'), version) = '', '1970-01-01',
                         substring(argMax(visitParamExtractString(payload, 'start_date'), version), 1, 10))) AS start_date,
               argMax(type, version) AS last_type
        FROM change_log
        WHERE aggregate = 'collaboration' AND event_time < toDateTime(@as_of)
        GROUP BY aggregate_id
        HAVING last_type != 'collaboration.deleted'
    )
    WHERE kind = 'mentoring' AND person_id > 0 AND toUInt16(start_date) > 0 AND at < toDateTime(@as_of)
)
GROUP BY person_id, signal
