CREATE VIEW IF NOT EXISTS {{bi}}.model_cards AS
SELECT
    model,
    as_of,
    model_version,
    visitParamExtractString(d, 'family') AS family,
    visitParamExtractString(d, 'champion') AS champion,
    toDate(if(train = '', '1970-01-01', train)) AS train_on,
    toDate(if(validation = '', '1970-01-01', validation)) AS validation_on,
    toDate(if(test = '', '1970-01-01', test)) AS test_on,
    arrayStringConcat(extractAll(visitParamExtractRaw(d, 'features'), '[A-Za-z0-9_]+'), ', ') AS features,
    d AS details
FROM
(
    SELECT
        model,
        as_of,
        model_version,
        argMax(details, computed_at) AS d,
        visitParamExtractString(visitParamExtractRaw(d, 'windows'), 'train') AS train,
        visitParamExtractString(visitParamExtractRaw(d, 'windows'), 'validation') AS validation,
        visitParamExtractString(visitParamExtractRaw(d, 'windows'), 'test') AS test
    FROM {{bi}}.src_model_evaluations
    GROUP BY model, as_of, model_version
)
