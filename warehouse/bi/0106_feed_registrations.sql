CREATE MATERIALIZED VIEW IF NOT EXISTS {{bi}}.src_registrations_feed TO {{bi}}.src_registrations
AS SELECT id, version, deleted, event_id, person_id, status, source, is_vip, attended, registered_at, attended_at
FROM {{warehouse}}.fact_registrations
