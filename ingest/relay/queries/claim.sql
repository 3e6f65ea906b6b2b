-- The oldest unpublished outbox rows that no other relay holds: locked until
-- this transaction ends, skipped by every other relay meanwhile.
SELECT id, event_id::text, event_type, aggregate_type, aggregate_id, schema_version, payload, occurred_at
FROM outbox
WHERE published_at IS NULL
ORDER BY id
LIMIT $1
FOR UPDATE SKIP LOCKED
