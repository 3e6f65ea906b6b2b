-- Per event (top-level events with registrations): kind, start, how many
-- registered (registered, attended or no-show) and how many attended.
SELECT id, kind, starts_at, registered, attended
FROM
(
    SELECT id, argMax(kind, version) AS kind, argMax(starts_at, version) AS starts_at, argMax(deleted, version) AS deleted
    FROM dim_events
    GROUP BY id
)
ALL INNER JOIN
(
    SELECT event_id AS id,
           countIf(status IN ('registered', 'attended', 'no_show')) AS registered,
           countIf(attended = 1) AS attended
    FROM
    (
        SELECT id, argMax(event_id, version) AS event_id, argMax(status, version) AS status,
               argMax(attended, version) AS attended, argMax(deleted, version) AS deleted
        FROM fact_registrations
        GROUP BY id
    )
    WHERE deleted = 0
    GROUP BY event_id
) USING id
WHERE deleted = 0
ORDER BY starts_at, id
