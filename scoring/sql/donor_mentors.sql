-- People mentoring (a collaboration of kind mentoring started before @as_of).
SELECT DISTINCT person_id
FROM collaborations_current
WHERE kind = 'mentoring' AND person_id > 0 AND toUInt16(start_date) > 0 AND start_date < toDate(toDateTime(@as_of))
