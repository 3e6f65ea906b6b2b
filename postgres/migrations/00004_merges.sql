-- Duplicate handling (R4.4): the history of merges and the pairs staff
-- decided are not duplicates. docs/store.md describes the merge.

-- +goose Up
-- One row per merge: the loser as it was before (a full snapshot, so nothing
-- is lost and a wrong merge can be repaired by hand) and how many rows of
-- each table moved to the winner.
CREATE TABLE merges (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    aggregate text   NOT NULL CHECK (aggregate IN ('person', 'organisation')),
    winner_id bigint NOT NULL,
    loser_id  bigint NOT NULL,
    merged_at timestamptz NOT NULL DEFAULT now(),
    merged_by bigint REFERENCES users (id) ON DELETE SET NULL,
    reason    text   NOT NULL DEFAULT '',
    loser     jsonb  NOT NULL,
    moved     jsonb  NOT NULL DEFAULT '{}',
    CHECK (winner_id <> loser_id)
);
CREATE INDEX merges_winner ON merges (aggregate, winner_id);
CREATE INDEX merges_loser ON merges (aggregate, loser_id);

-- Pairs a person decided are not duplicates: the finder proposes them no
-- more. low_id < high_id.
CREATE TABLE duplicate_rejections (
    aggregate  text   NOT NULL CHECK (aggregate IN ('person', 'organisation')),
    low_id     bigint NOT NULL,
    high_id    bigint NOT NULL,
    decided_by bigint REFERENCES users (id) ON DELETE SET NULL,
    decided_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (aggregate, low_id, high_id),
    CHECK (low_id < high_id)
);

-- +goose Down
DROP TABLE duplicate_rejections;
DROP TABLE merges;
