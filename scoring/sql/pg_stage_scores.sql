CREATE TEMP TABLE score_stage (
    person_id       bigint,
    score           double precision,
    level           integer,
    label           text,
    expected_amount numeric(14, 2),
    suggested_ask   numeric(14, 2),
    reasons         jsonb
) ON COMMIT DROP
