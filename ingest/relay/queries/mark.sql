-- Stamp rows the broker has acknowledged, in the transaction that claimed them.
UPDATE outbox SET published_at = now() WHERE id = ANY($1)
