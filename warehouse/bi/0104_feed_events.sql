CREATE MATERIALIZED VIEW IF NOT EXISTS {{bi}}.src_events_feed TO {{bi}}.src_events
AS SELECT id, version, deleted, name, kind, office, series_id, location, is_online, capacity, starts_at
FROM {{warehouse}}.dim_events
