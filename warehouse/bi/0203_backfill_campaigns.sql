INSERT INTO {{bi}}.src_campaigns
SELECT id, version, deleted, name, channel, status, office, newsletter, starts_at, sent_at
FROM {{warehouse}}.dim_campaigns
