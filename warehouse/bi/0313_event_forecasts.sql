CREATE VIEW IF NOT EXISTS {{bi}}.event_forecasts AS
SELECT
    as_of,
    event_id,
    kind,
    starts_at,
    registered,
    show_up_rate,
    forecast,
    if(actual_raw < 0, NULL, toNullable(actual_raw)) AS actual
FROM
(
    SELECT
        as_of,
        event_id,
        argMax(kind, computed_at) AS kind,
        argMax(starts_at, computed_at) AS starts_at,
        argMax(registered, computed_at) AS registered,
        argMax(show_up_rate, computed_at) AS show_up_rate,
        argMax(forecast, computed_at) AS forecast,
        argMax(actual, computed_at) AS actual_raw
    FROM {{bi}}.src_event_forecasts
    GROUP BY as_of, event_id
)
