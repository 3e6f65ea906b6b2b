CREATE TABLE IF NOT EXISTS {{bi}}.src_organisations
(
    id         Int64,
    version    UInt64,
    deleted    UInt8,
    name       String,
    kind       String,
    status     String,
    sector     String,
    size_class String,
    country    String,
    city       String,
    parent_id  Int64,
    created_at DateTime
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id
