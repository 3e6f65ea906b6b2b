CREATE TEMP TABLE cluster_stage (
    organisation_id bigint,
    cluster         integer,
    label           text
) ON COMMIT DROP
