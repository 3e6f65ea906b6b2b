-- The person to erase and every duplicate merged into them, locked.
SELECT id, status, coalesce(merged_into, 0)
  FROM people
 WHERE id = $1 OR merged_into = $1
 ORDER BY id
   FOR UPDATE
