INSERT INTO person_scores (person_id, donor_probability, donor_tier, expected_amount, suggested_ask, donor_reasons, donor_model, donor_as_of, updated_at)
SELECT s.person_id, s.score, s.label, s.expected_amount, s.suggested_ask, s.reasons, $1, $2::date, now()
FROM score_stage s
JOIN people p ON p.id = s.person_id
ON CONFLICT (person_id) DO UPDATE
SET donor_probability = EXCLUDED.donor_probability, donor_tier = EXCLUDED.donor_tier,
    expected_amount = EXCLUDED.expected_amount, suggested_ask = EXCLUDED.suggested_ask,
    donor_reasons = EXCLUDED.donor_reasons, donor_model = EXCLUDED.donor_model,
    donor_as_of = EXCLUDED.donor_as_of, updated_at = now()
