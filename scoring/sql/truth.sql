-- The synthetic university's true giving probabilities (package synthetic):
-- only present in a warehouse loaded by `calore seed`.
SELECT person_id, propensity, gave
FROM synthetic_propensity
WHERE year = @year AND known = 1
