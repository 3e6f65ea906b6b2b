CREATE VIEW IF NOT EXISTS {{bi}}.model_weights AS
SELECT
    model,
    as_of,
    model_version,
    if(pair_index <= n_coefficients, 'coefficient', 'importance') AS kind,
    replaceAll(splitByChar(':', pair)[1], '"', '') AS feature,
    toFloat64(splitByChar(':', pair)[2]) AS weight
FROM
(
    SELECT
        model,
        as_of,
        model_version,
        extractAll(visitParamExtractRaw(argMax(details, computed_at), 'coefficients'), '"[A-Za-z0-9_]+":[-+0-9.eE]+') AS coefficients,
        extractAll(visitParamExtractRaw(argMax(details, computed_at), 'importances'), '"[A-Za-z0-9_]+":[-+0-9.eE]+') AS importances,
        length(coefficients) AS n_coefficients,
        arrayConcat(coefficients, importances) AS pairs
    FROM {{bi}}.src_model_evaluations
    GROUP BY model, as_of, model_version
)
ARRAY JOIN
    pairs AS pair,
    arrayEnumerate(pairs) AS pair_index
