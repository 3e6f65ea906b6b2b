CREATE VIEW IF NOT EXISTS {{bi}}.model_calibration AS
SELECT
    model,
    as_of,
    model_version,
    toInt64(bin_index) AS bin,
    visitParamExtractFloat(bin_json, 'Lo') AS predicted_from,
    visitParamExtractFloat(bin_json, 'Hi') AS predicted_to,
    visitParamExtractInt(bin_json, 'N') AS examples,
    visitParamExtractFloat(bin_json, 'Predicted') AS mean_predicted,
    visitParamExtractFloat(bin_json, 'Observed') AS observed_rate
FROM
(
    SELECT
        model,
        as_of,
        model_version,
        extractAll(argMax(calibration, computed_at), '\\{[^}]*\\}') AS bins
    FROM {{bi}}.src_model_evaluations
    GROUP BY model, as_of, model_version
)
ARRAY JOIN
    bins AS bin_json,
    arrayEnumerate(bins) AS bin_index
