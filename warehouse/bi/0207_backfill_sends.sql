INSERT INTO {{bi}}.src_sends
SELECT id, version, deleted, campaign_id, person_id, status, sent_at
FROM {{warehouse}}.fact_sends
