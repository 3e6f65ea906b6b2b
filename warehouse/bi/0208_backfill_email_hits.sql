INSERT INTO {{bi}}.src_email_hits
SELECT event_id, event_time, kind, contact_id, campaign_id, send_id, is_machine, received_at
FROM {{warehouse}}.tracking_events
WHERE kind IN ('email.open', 'email.click')
