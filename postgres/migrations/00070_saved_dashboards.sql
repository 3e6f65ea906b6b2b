-- Dashboards users save from the available widgets (R6.1): a name, the
-- widgets in order and the filters (period, office, segment, prospect
-- filters) as query parameters. The data they show always comes from the
-- warehouse; this table holds only their definitions.

-- +goose Up
CREATE TABLE saved_dashboards (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       text   NOT NULL CHECK (name <> '' AND length(name) <= 200),
    widgets    text[] NOT NULL CHECK (cardinality(widgets) BETWEEN 1 AND 50),
    filters    jsonb  NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, name)
);

-- +goose Down
DROP TABLE saved_dashboards;
