-- Giving history per person around @as_of, from the gifts recorded before
-- @as_of (point in time: a gift's latest version among the changes made
-- before @as_of, read from the change log, which keeps every version):
-- the yearly windows before @as_of with a gift (bit 0 = the last 12 months,
-- bit 1 = 12-24 months before, … bit 4), the newest gift's date, the
-- largest gift and the total of the five years before, gifts in the five
-- years, a recurring (periodic) gift in the last 12 months, and the label:
-- a gift dated in the 12 months after @as_of (whenever it was recorded).
SELECT person_id,
       groupBitOrIf(bitShiftLeft(toUInt8(1), toUInt8(intDiv(toUInt32(toDateTime(@as_of)) - toUInt32(donated_at), 31557600))),
                    known AND donated_at < toDateTime(@as_of) AND donated_at >= addYears(toDateTime(@as_of), -5)) AS year_bits,
       maxIf(donated_at, known AND donated_at < toDateTime(@as_of)) AS last_at,
       maxIf(amount, known AND donated_at < toDateTime(@as_of) AND donated_at >= addYears(toDateTime(@as_of), -5)) AS largest,
       argMaxIf(amount, donated_at, known AND donated_at < toDateTime(@as_of)) AS last_amount,
       countIf(known AND donated_at < toDateTime(@as_of) AND donated_at >= addYears(toDateTime(@as_of), -5)) AS gifts,
       sumIf(amount, known AND donated_at < toDateTime(@as_of) AND donated_at >= addYears(toDateTime(@as_of), -5)) AS total,
       maxIf(periodicity NOT IN ('', 'one_off'), known AND donated_at < toDateTime(@as_of) AND donated_at >= addYears(toDateTime(@as_of), -1)) AS recurring,
       max(donated_at >= toDateTime(@as_of) AND donated_at < addYears(toDateTime(@as_of), 1) AND now_deleted = 0) AS gave_next
FROM
(
    SELECT aggregate_id,
           argMaxIf(visitParamExtractInt(payload, 'person_id'), version, event_time < toDateTime(@as_of)) AS before_person,
           argMax(visitParamExtractInt(payload, 'person_id'), version) AS now_person,
           countIf(event_time < toDateTime(@as_of)) > 0 AND argMaxIf(type, version, event_time < toDateTime(@as_of)) NOT IN ('donation.deleted', 'donation.merged') AS known,
           argMax(type, version) IN ('donation.deleted', 'donation.merged') AS now_deleted,
           if(known, argMaxIf(parseDateTimeBestEffortOrZero(substring(visitParamExtractString(payload, 'donated_on'), 1, 19)), version, event_time < toDateTime(@as_of)),
                     argMax(parseDateTimeBestEffortOrZero(substring(visitParamExtractString(payload, 'donated_on'), 1, 19)), version)) AS donated_at,
           toFloat64OrZero(if(known, argMaxIf(visitParamExtractString(payload, 'amount'), version, event_time < toDateTime(@as_of)),
                                     argMax(visitParamExtractString(payload, 'amount'), version))) AS amount,
           if(known, argMaxIf(visitParamExtractString(payload, 'periodicity'), version, event_time < toDateTime(@as_of)),
                     argMax(visitParamExtractString(payload, 'periodicity'), version)) AS periodicity,
           if(known, before_person, now_person) AS person_id
    FROM change_log
    WHERE aggregate = 'donation'
    GROUP BY aggregate_id
)
WHERE person_id > 0
GROUP BY person_id
