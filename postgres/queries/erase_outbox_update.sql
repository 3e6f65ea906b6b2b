UPDATE outbox SET payload = $2 WHERE id = $1
