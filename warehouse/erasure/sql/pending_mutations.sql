SELECT table, toUInt64(count()) AS pending, toUInt64(sum(parts_to_do)) AS parts
FROM system.mutations
WHERE database = ? AND is_done = 0
GROUP BY table
