-- Rollup (kpi.Refresh): registrations (latest version, not deleted) by
-- event and kind of the person (latest version), for events at their latest
-- version, not deleted: registration rows, people registered (registered,
-- attended or no-show; invitations and cancellations do not count) and
-- people who attended.
INSERT INTO rollup_event_regs (refresh_id, event_id, starts_at, office, kind, registrations, registered, attended)
SELECT toUInt64(@refresh), event, starts_at, office, kind,
       count(), countIf(status IN ('registered', 'attended', 'no_show') OR came = 1), countIf(came = 1)
FROM
(
    SELECT event, person_id, status, came, starts_at, office
    FROM
    (
        SELECT id, argMax(event_id, version) AS event, argMax(person_id, version) AS person_id,
               argMax(status, version) AS status, argMax(attended, version) AS came,
               argMax(deleted, version) AS deleted
        FROM fact_registrations
        GROUP BY id
    )
    ALL INNER JOIN
    (
        SELECT event, starts_at, office
        FROM
        (
            SELECT id AS event, argMax(starts_at, version) AS starts_at, argMax(office, version) AS office,
                   argMax(deleted, version) AS event_deleted
            FROM dim_events
            GROUP BY id
        )
        WHERE event_deleted = 0
    ) USING event
    WHERE deleted = 0
)
ANY LEFT JOIN
(
    SELECT id AS person_id, argMax(kind, version) AS kind
    FROM dim_people
    WHERE id IN (SELECT person_id FROM fact_registrations)
    GROUP BY id
) USING person_id
GROUP BY event, starts_at, office, kind
