CREATE TABLE IF NOT EXISTS fact_journey_stages
(
    id          Int64,
    version     UInt64,
    deleted     UInt8,
    merged_into Int64,
    change_id   UUID,
    changed_at  DateTime,
    person_id   Int64,
    journey     String,
    stage       String,
    touchpoint  String,
    source      String,
    entered_at  DateTime,
    payload     String
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(entered_at)
ORDER BY (journey, stage, entered_at, id)
