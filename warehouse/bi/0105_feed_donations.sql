CREATE MATERIALIZED VIEW IF NOT EXISTS {{bi}}.src_donations_feed TO {{bi}}.src_donations
AS SELECT id, version, deleted, person_id, organisation_id, campaign_id, amount, currency, periodicity, purpose, donated_at
FROM {{warehouse}}.fact_donations
