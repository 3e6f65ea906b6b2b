CREATE MATERIALIZED VIEW IF NOT EXISTS {{bi}}.src_campaigns_feed TO {{bi}}.src_campaigns
AS SELECT id, version, deleted, name, channel, status, office, newsletter, starts_at, sent_at
FROM {{warehouse}}.dim_campaigns
