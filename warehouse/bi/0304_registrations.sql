CREATE VIEW IF NOT EXISTS {{bi}}.registrations AS
SELECT
    registration_id,
    event_id,
    person_id,
    status,
    source,
    toInt64(is_vip_raw) AS is_vip,
    toInt64(attended_raw) AS attended,
    registered_at,
    if(attended_raw = 1, toNullable(attended_at_raw), NULL) AS attended_at
FROM
(
    SELECT
        id AS registration_id,
        argMax(event_id, version) AS event_id,
        argMax(person_id, version) AS person_id,
        argMax(status, version) AS status,
        argMax(source, version) AS source,
        argMax(is_vip, version) AS is_vip_raw,
        argMax(attended, version) AS attended_raw,
        argMax(registered_at, version) AS registered_at,
        argMax(attended_at, version) AS attended_at_raw,
        argMax(deleted, version) AS is_deleted
    FROM {{bi}}.src_registrations
    GROUP BY id
)
WHERE is_deleted = 0
