SELECT published_at IS NOT NULL FROM outbox WHERE event_id = $1::uuid
