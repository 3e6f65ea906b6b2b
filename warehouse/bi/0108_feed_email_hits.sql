CREATE MATERIALIZED VIEW IF NOT EXISTS {{bi}}.src_email_hits_feed TO {{bi}}.src_email_hits
AS SELECT event_id, event_time, kind, contact_id, campaign_id, send_id, is_machine, received_at
FROM {{warehouse}}.tracking_events
WHERE kind IN ('email.open', 'email.click')
