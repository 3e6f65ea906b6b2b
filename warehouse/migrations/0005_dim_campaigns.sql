CREATE TABLE IF NOT EXISTS dim_campaigns
(
    id          Int64,
    version     UInt64,
    deleted     UInt8,
    merged_into Int64,
    change_id   UUID,
    changed_at  DateTime,
    name        String,
    channel     String,
    status      String,
    office      String,
    newsletter  String,
    starts_at   DateTime,
    sent_at     DateTime,
    created_at  DateTime,
    payload     String
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id
