CREATE TABLE IF NOT EXISTS dim_people
(
    id              Int64,
    version         UInt64,
    deleted         UInt8,
    merged_into     Int64,
    change_id       UUID,
    changed_at      DateTime,
    record_version  Int64,
    kind            String,
    status          String,
    first_name      String,
    last_name       String,
    email           String,
    country         String,
    city            String,
    graduation_year Int64,
    degree_course   String,
    organisation_id Int64,
    created_at      DateTime,
    payload         String
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id
