-- Unpublished rows and the age in seconds of the oldest one.
SELECT count(*), coalesce(extract(epoch FROM now() - min(occurred_at)), 0)::float8
FROM outbox
WHERE published_at IS NULL
