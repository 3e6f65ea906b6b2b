INSERT INTO {{bi}}.src_registrations
SELECT id, version, deleted, event_id, person_id, status, source, is_vip, attended, registered_at, attended_at
FROM {{warehouse}}.fact_registrations
