-- Affiliations (roles at organisations) as recorded before @as_of, current
-- at @as_of: started before it and not ended before it. The role text is
-- mapped to a career level in Go (careerLevel).
SELECT person_id, role
FROM
(
    SELECT argMax(visitParamExtractInt(payload, 'person_id'), version) AS person_id,
           argMax(visitParamExtractString(payload, 'role'), version) AS role,
           argMax(visitParamExtractString(payload, 'start_date'), version) AS start,
           argMax(visitParamExtractString(payload, 'end_date'), version) AS finish,
           argMax(type, version) AS last_type
    FROM change_log
    WHERE aggregate = 'affiliation' AND event_time < toDateTime(@as_of)
    GROUP BY aggregate_id
)
WHERE person_id > 0 AND last_type != 'affiliation.deleted'
  AND toDate(if(start = '', '1970-01-02', substring(start, 1, 10))) < toDate(toDateTime(@as_of))
  AND toDate(if(finish = '', '2100-01-01', substring(finish, 1, 10))) >= toDate(toDateTime(@as_of))
