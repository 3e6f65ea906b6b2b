INSERT INTO {{bi}}.src_events
SELECT id, version, deleted, name, kind, office, series_id, location, is_online, capacity, starts_at
FROM {{warehouse}}.dim_events
