CREATE TABLE IF NOT EXISTS dim_organisations
(
    id             Int64,
    version        UInt64,
    deleted        UInt8,
    merged_into    Int64,
    change_id      UUID,
    changed_at     DateTime,
    record_version Int64,
    name           String,
    kind           String,
    status         String,
    sector         String,
    size_class     String,
    country        String,
    city           String,
    parent_id      Int64,
    created_at     DateTime,
    payload        String
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id
