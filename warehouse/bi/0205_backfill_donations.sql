INSERT INTO {{bi}}.src_donations
SELECT id, version, deleted, person_id, organisation_id, campaign_id, amount, currency, periodicity, purpose, donated_at
FROM {{warehouse}}.fact_donations
