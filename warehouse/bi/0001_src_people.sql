CREATE TABLE IF NOT EXISTS {{bi}}.src_people
(
    id              Int64,
    version         UInt64,
    deleted         UInt8,
    kind            String,
    status          String,
    first_name      String,
    last_name       String,
    country         String,
    region          String,
    city            String,
    graduation_year Int64,
    degree_course   String,
    macro_category  String,
    organisation_id Int64,
    created_at      DateTime
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id
