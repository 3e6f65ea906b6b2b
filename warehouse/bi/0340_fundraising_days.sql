-- Fundraising in EUR by day: the rule of kpiq.Donations, the figure of the
-- API's /api/kpis/donations and the dashboards' fundraising widget (current
-- donations, '' currency counted as EUR as bi.donations maps it, other
-- currencies left out). A day's year to date is the sum of amount_eur and
-- gifts over donation_year from January 1st to that day; distinct donors are
-- counted on bi.donations (not additive over days).
CREATE VIEW IF NOT EXISTS {{bi}}.fundraising_days AS
SELECT
    donated_on,
    donation_year,
    sum(amount) AS amount_eur,
    toInt64(count()) AS gifts
FROM {{bi}}.donations
WHERE currency = 'EUR'
GROUP BY donated_on, donation_year
