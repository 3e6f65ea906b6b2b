CREATE TABLE IF NOT EXISTS {{bi}}.src_donations
(
    id              Int64,
    version         UInt64,
    deleted         UInt8,
    person_id       Int64,
    organisation_id Int64,
    campaign_id     Int64,
    amount          Decimal(18, 2),
    currency        String,
    periodicity     String,
    purpose         String,
    donated_at      DateTime
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(donated_at)
ORDER BY (donated_at, id)
