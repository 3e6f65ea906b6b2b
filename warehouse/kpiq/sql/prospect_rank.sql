-- Donor prospects, step 1: the people of the newest donation run of one
-- as_of day (parameters 1 and 2: the day, the run's computed_at as unix
-- seconds), filtered by the conditions prospectQuery puts in place of the
-- where marker, most probable first, at most the last parameter people. A
-- run scores everyone, so its rows are each person's newest score; a batch
-- inserted twice counts once (LIMIT 1 BY).
SELECT person_id
FROM person_scores
WHERE model = 'donation' AND as_of = toDate(?) AND computed_at = toDateTime(toUInt32(?))
/*where*/
ORDER BY score DESC, person_id
LIMIT 1 BY person_id
LIMIT ?
