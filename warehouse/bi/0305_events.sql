CREATE VIEW IF NOT EXISTS {{bi}}.events AS
SELECT
    event_id,
    name,
    kind,
    office,
    nullIf(series_id_raw, 0) AS series_id,
    location,
    toInt64(is_online_raw) AS is_online,
    capacity,
    starts_at,
    toInt64(invited) AS invited,
    toInt64(registered) AS registered,
    toInt64(attended) AS attended,
    toInt64(no_show) AS no_show,
    if(registered > 0, toNullable(attended / registered), NULL) AS attendance_rate
FROM
(
    SELECT
        id AS event_id,
        argMax(name, version) AS name,
        argMax(kind, version) AS kind,
        argMax(office, version) AS office,
        argMax(series_id, version) AS series_id_raw,
        argMax(location, version) AS location,
        argMax(is_online, version) AS is_online_raw,
        argMax(capacity, version) AS capacity,
        argMax(starts_at, version) AS starts_at,
        argMax(deleted, version) AS is_deleted
    FROM {{bi}}.src_events
    GROUP BY id
) AS e
ANY LEFT JOIN
(
    SELECT
        event_id,
        countIf(status = 'invited') AS invited,
        countIf(status IN ('registered', 'attended', 'no_show')) AS registered,
        countIf(status = 'attended') AS attended,
        countIf(status = 'no_show') AS no_show
    FROM
    (
        SELECT id, argMax(event_id, version) AS event_id, argMax(status, version) AS status, argMax(deleted, version) AS is_deleted
        FROM {{bi}}.src_registrations
        GROUP BY id
    )
    WHERE is_deleted = 0
    GROUP BY event_id
) AS r USING (event_id)
WHERE is_deleted = 0
