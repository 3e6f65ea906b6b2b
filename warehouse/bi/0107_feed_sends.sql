CREATE MATERIALIZED VIEW IF NOT EXISTS {{bi}}.src_sends_feed TO {{bi}}.src_sends
AS SELECT id, version, deleted, campaign_id, person_id, status, sent_at
FROM {{warehouse}}.fact_sends
