CREATE VIEW IF NOT EXISTS {{bi}}.donations AS
SELECT
    donation_id,
    nullIf(person_id_raw, 0) AS person_id,
    nullIf(organisation_id_raw, 0) AS organisation_id,
    nullIf(campaign_id_raw, 0) AS campaign_id,
    amount,
    if(currency_raw = '', 'EUR', currency_raw) AS currency,
    periodicity,
    purpose,
    donated_at,
    toDate(donated_at) AS donated_on,
    toInt64(toYear(donated_at)) AS donation_year
FROM
(
    SELECT
        id AS donation_id,
        argMax(person_id, version) AS person_id_raw,
        argMax(organisation_id, version) AS organisation_id_raw,
        argMax(campaign_id, version) AS campaign_id_raw,
        argMax(amount, version) AS amount,
        argMax(currency, version) AS currency_raw,
        argMax(periodicity, version) AS periodicity,
        argMax(purpose, version) AS purpose,
        argMax(donated_at, version) AS donated_at,
        argMax(deleted, version) AS is_deleted
    FROM {{bi}}.src_donations
    GROUP BY id
)
WHERE is_deleted = 0
