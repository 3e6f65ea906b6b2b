CREATE TABLE IF NOT EXISTS {{bi}}.src_campaigns
(
    id         Int64,
    version    UInt64,
    deleted    UInt8,
    name       String,
    channel    String,
    status     String,
    office     String,
    newsletter String,
    starts_at  DateTime,
    sent_at    DateTime
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id
