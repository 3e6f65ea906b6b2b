-- Registrations to the events starting in [$1, $2): invited, registered (who
-- signed up: registered, attended or no-show), attended, and the events.
SELECT
  count(DISTINCT e.id),
  count(r.id) FILTER (WHERE r.status = 'invited'),
  count(r.id) FILTER (WHERE r.status IN ('registered', 'attended', 'no_show')),
  count(r.id) FILTER (WHERE r.status = 'attended')
FROM events e
LEFT JOIN registrations r ON r.event_id = e.id
WHERE e.starts_at >= $1 AND e.starts_at < $2
