-- Current organisations with their size class, revenue and sector (ATECO
-- codes and disciplines as the JSON arrays of the record).
SELECT id, name, size_class, revenue, ateco, disciplines
FROM
(
    SELECT id, argMax(name, version) AS name, argMax(size_class, version) AS size_class,
           toFloat64OrZero(argMax(visitParamExtractString(payload, 'revenue'), version)) AS revenue,
           argMax(visitParamExtractRaw(payload, 'ateco_codes'), version) AS ateco,
           argMax(visitParamExtractRaw(payload, 'disciplines'), version) AS disciplines,
           argMax(status, version) AS status, argMax(deleted, version) AS deleted
    FROM dim_organisations
    GROUP BY id
)
WHERE deleted = 0 AND status != 'duplicate'
