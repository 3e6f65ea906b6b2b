CREATE VIEW IF NOT EXISTS {{bi}}.model_features AS
SELECT
    model,
    as_of,
    model_version,
    replaceAll(splitByChar(':', pair)[1], '"', '') AS feature,
    toFloat64(splitByChar(':', pair)[2]) AS coefficient
FROM
(
    SELECT
        model,
        as_of,
        model_version,
        extractAll(visitParamExtractRaw(argMax(details, computed_at), 'coefficients'), '"[A-Za-z0-9_]+":[-+0-9.eE]+') AS pairs
    FROM {{bi}}.src_model_evaluations
    GROUP BY model, as_of, model_version
)
ARRAY JOIN pairs AS pair
