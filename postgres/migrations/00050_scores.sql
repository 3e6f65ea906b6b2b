-- The latest scores per person and organisation, written by `calore score`
-- for the operational views (the API's donor list, a person's card). The
-- warehouse keeps every version (person_scores, company_clusters); these
-- tables hold only the newest. Scores are derived data: they do not go
-- through the outbox.

-- +goose Up
CREATE TABLE person_scores (
    person_id         bigint PRIMARY KEY REFERENCES people (id) ON DELETE CASCADE,
    heat_level        integer CHECK (heat_level BETWEEN 1 AND 4),
    heat_score        double precision,
    heat_reasons      jsonb,
    heat_model        text,
    heat_as_of        date,
    donor_probability double precision CHECK (donor_probability BETWEEN 0 AND 1),
    donor_tier        text CHECK (donor_tier IN ('A', 'B', 'C', 'D')),
    expected_amount   numeric(14, 2),
    suggested_ask     numeric(14, 2),
    donor_reasons     jsonb,
    donor_model       text,
    donor_as_of       date,
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX person_scores_donor ON person_scores (donor_tier, donor_probability DESC);
CREATE INDEX person_scores_heat ON person_scores (heat_level);

CREATE TABLE organisation_clusters (
    organisation_id bigint PRIMARY KEY REFERENCES organisations (id) ON DELETE CASCADE,
    cluster         integer NOT NULL,
    label           text    NOT NULL,
    model           text    NOT NULL,
    as_of           date    NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE organisation_clusters;
DROP TABLE person_scores;
