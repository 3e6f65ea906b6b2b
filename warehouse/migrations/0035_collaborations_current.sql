CREATE VIEW IF NOT EXISTS collaborations_current AS
SELECT toInt64(aggregate_id) AS id, person_id, organisation_id, kind,
       if(start = '', toDate('1970-01-01'), toDate(substring(start, 1, 10))) AS start_date
FROM
(
    SELECT aggregate_id,
           argMax(visitParamExtractInt(payload, 'person_id'), version) AS person_id,
           argMax(visitParamExtractInt(payload, 'organisation_id'), version) AS organisation_id,
           argMax(visitParamExtractString(payload, 'kind'), version) AS kind,
           argMax(visitParamExtractString(payload, 'start_date'), version) AS start,
           argMax(type, version) AS last_type
    FROM change_log
    WHERE aggregate = 'collaboration'
    GROUP BY aggregate_id
)
WHERE last_type != 'collaboration.deleted'
