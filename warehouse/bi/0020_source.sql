CREATE VIEW IF NOT EXISTS {{bi}}.source AS SELECT '{{warehouse}}' AS warehouse_database
