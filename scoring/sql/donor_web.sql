-- Web visits per person in the 12 months before @as_of, and how many of
-- them were to a giving page (a URL path naming a gift: dona, donate,
-- donazion, giving, give, support-us, sostieni). Human hits only.
SELECT contact_id AS person_id,
       uniqExact(event_id) AS visits,
       uniqExactIf(event_id, match(lower(url), '/(dona|donate|donazion|giving|give|support-us|sostieni)')) AS giving_visits
FROM tracking_events
WHERE kind = 'web.pageview' AND is_machine = 0 AND contact_id > 0
  AND event_time >= addYears(toDateTime(@as_of), -1) AND event_time < toDateTime(@as_of)
GROUP BY contact_id
