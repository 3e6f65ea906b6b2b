-- The loads recorded for one scale, seed and number of people.
SELECT count() FROM synthetic_runs WHERE scale = ? AND seed = ? AND people = ?
