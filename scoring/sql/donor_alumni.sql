-- Alumni as they were recorded before @as_of: the population a donation
-- model scores, with the attributes it reads. Point in time: the change log
-- keeps every version of a person (dim_people, a ReplacingMergeTree ordered
-- by id, keeps only the newest once merged), and only changes made before
-- @as_of count. Eligible: an alumnus whose graduation year is before the
-- year of @as_of, not deleted or merged by then.
SELECT id, graduation_year, top_category, birth_year
FROM
(
    SELECT toInt64(aggregate_id) AS id,
           argMax(visitParamExtractString(payload, 'kind'), version) AS kind,
           argMax(visitParamExtractInt(payload, 'graduation_year'), version) AS graduation_year,
           argMax(visitParamExtractString(payload, 'top_category'), version) AS top_category,
           argMax(toInt64OrZero(substring(visitParamExtractString(payload, 'birth_date'), 1, 4)), version) AS birth_year,
           argMax(type, version) AS last_type
    FROM change_log
    WHERE aggregate = 'person' AND event_time < toDateTime(@as_of)
    GROUP BY aggregate_id
)
WHERE kind = 'alumnus' AND last_type NOT IN ('person.deleted', 'person.merged')
  AND graduation_year > 0 AND graduation_year < toYear(toDateTime(@as_of))
