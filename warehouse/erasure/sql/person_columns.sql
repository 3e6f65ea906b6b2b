SELECT c.table, c.name
FROM system.columns AS c
WHERE c.database = ?
  AND c.name IN ('id', 'person_id', 'contact_id', 'payload', 'aggregate_id', 'anonymous_id')
  AND c.table IN (SELECT name FROM system.tables WHERE database = ? AND engine LIKE '%MergeTree')
ORDER BY c.table, c.name
