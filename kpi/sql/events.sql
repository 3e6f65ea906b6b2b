-- Events starting in [@from, @to) of @office ('' all), by month: events
-- with registrations, people registered (registered, attended or no-show;
-- invitations and cancellations do not count) and people who attended,
-- optionally only people of kind @segment (the segment marker, see
-- segmented.toSQL). Latest versions only. Registrations are read only for
-- events with a version starting within 31 days of the period (a
-- registration keeps its event), so the dedup stays exact for them.
SELECT month,
       uniqExact(event) AS events,
       countIf(status IN ('registered', 'attended', 'no_show') OR came = 1) AS registered,
       countIf(came = 1) AS attended
FROM
(
    SELECT id, argMax(event_id, version) AS event, argMax(person_id, version) AS person_id,
           argMax(status, version) AS status, argMax(attended, version) AS came,
           argMax(deleted, version) AS deleted
    FROM fact_registrations
    WHERE event_id IN (SELECT id FROM dim_events
                       WHERE starts_at >= toDateTime(@from) - 2678400 AND starts_at < toDateTime(@to) + 2678400)
    GROUP BY id
)
ALL INNER JOIN
(
    SELECT event, toStartOfMonth(starts_at) AS month
    FROM
    (
        SELECT id AS event, argMax(starts_at, version) AS starts_at, argMax(office, version) AS office,
               argMax(deleted, version) AS event_deleted
        FROM dim_events
        GROUP BY id
    )
    WHERE event_deleted = 0 AND starts_at >= toDateTime(@from) AND starts_at < toDateTime(@to)
      AND (@office = '' OR office = @office)
) USING event
WHERE deleted = 0
  /*segment: AND person_id IN
      (SELECT id FROM (SELECT id, argMax(kind, version) AS kind FROM dim_people GROUP BY id) WHERE kind = @segment) */
GROUP BY month
ORDER BY month
