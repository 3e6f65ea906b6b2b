CREATE MATERIALIZED VIEW IF NOT EXISTS {{bi}}.src_event_forecasts_feed TO {{bi}}.src_event_forecasts
AS SELECT as_of, event_id, kind, starts_at, registered, show_up_rate, forecast, actual, computed_at
FROM {{warehouse}}.event_forecasts
