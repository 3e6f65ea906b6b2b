-- People mentoring (a collaboration of kind mentoring started before @as_of).
SELECT DISTINCT person_id
FROM
(
    SELECT aggregate_id, argMax(visitParamExtractInt(payload, 'person_id'), version) AS person_id,
           argMax(visitParamExtractString(payload, 'kind'), version) AS kind,
           argMax(visitParamExtractString(payload, 'start_date'), version) AS start,
           argMax(type, version) AS last_type
    FROM change_log
    WHERE aggregate = 'collaboration'
    GROUP BY aggregate_id
)
WHERE kind = 'mentoring' AND person_id > 0 AND start != '' AND last_type != 'collaboration.deleted'
  AND toDate(substring(start, 1, 10)) < toDate(toDateTime(@as_of))
