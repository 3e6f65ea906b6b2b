CREATE TABLE IF NOT EXISTS fact_donations
(
    id          Int64,
    version     UInt64,
    deleted     UInt8,
    merged_into Int64,
    change_id   UUID,
    changed_at  DateTime,
    person_id       Int64,
    organisation_id Int64,
    campaign_id     Int64,
    amount          Decimal(18, 2),
    currency        String,
    periodicity     String,
    purpose         String,
    donated_at      DateTime,
    payload     String
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(donated_at)
ORDER BY (donated_at, id)
