INSERT INTO {{bi}}.src_event_forecasts
SELECT as_of, event_id, kind, starts_at, registered, show_up_rate, forecast, actual, computed_at
FROM {{warehouse}}.event_forecasts
