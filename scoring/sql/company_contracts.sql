-- Value of the research contracts per organisation that started in the three
-- years before @as_of, as recorded before @as_of (point in time: each
-- contract's latest version among the changes made before @as_of).
SELECT organisation_id, sum(value) AS contract_value, count() AS contracts
FROM
(
    SELECT aggregate_id, argMax(visitParamExtractInt(payload, 'organisation_id'), version) AS organisation_id,
           toFloat64OrZero(argMax(visitParamExtractString(payload, 'value'), version)) AS value,
           argMax(visitParamExtractString(payload, 'start_date'), version) AS start,
           argMax(type, version) AS last_type
    FROM change_log
    WHERE aggregate = 'research_contract' AND event_time < toDateTime(@as_of)
    GROUP BY aggregate_id
)
WHERE organisation_id > 0 AND last_type != 'research_contract.deleted' AND start != ''
  AND toDate(substring(start, 1, 10)) >= toDate(addYears(toDateTime(@as_of), -3))
  AND toDate(substring(start, 1, 10)) < toDate(toDateTime(@as_of))
GROUP BY organisation_id
