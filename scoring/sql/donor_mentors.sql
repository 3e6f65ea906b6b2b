-- People mentoring as of @as_of: a collaboration of kind mentoring, as
-- recorded before @as_of (its latest version among the changes made before
-- @as_of, from the change log), started before @as_of and not ended by then.
SELECT DISTINCT person_id
FROM
(
    SELECT argMax(visitParamExtractInt(payload, 'person_id'), version) AS person_id,
           argMax(visitParamExtractString(payload, 'kind'), version) AS kind,
           argMax(visitParamExtractString(payload, 'start_date'), version) AS start,
           argMax(visitParamExtractString(payload, 'end_date'), version) AS finish,
           argMax(type, version) AS last_type
    FROM change_log
    WHERE aggregate = 'collaboration' AND event_time < toDateTime(@as_of)
    GROUP BY aggregate_id
)
WHERE kind = 'mentoring' AND person_id > 0 AND last_type != 'collaboration.deleted' AND start != ''
  AND toDate(substring(start, 1, 10)) < toDate(toDateTime(@as_of))
  AND toDate(if(finish = '', '2100-01-01', substring(finish, 1, 10))) >= toDate(addYears(toDateTime(@as_of), -1))
