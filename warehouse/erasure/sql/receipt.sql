SELECT database, table_name,
       argMax(action, finished_at) AS act,
       argMax(rows_before, finished_at) AS before_rows,
       argMax(rows_after, finished_at) AS after_rows,
       argMax(erased_at, finished_at) AS erased,
       max(finished_at) AS finished
FROM erasure_receipts
WHERE event_id = toUUID(?)
GROUP BY database, table_name
ORDER BY database, table_name
