-- What the application role (CALORE_PG_DSN's user) may do in a database the
-- migration role owns: use the schema, read and write rows, use sequences;
-- no DDL, no TRUNCATE, no REFERENCES or TRIGGER. Default privileges cover the
-- tables later migrations create; the explicit grants cover those that exist.
-- APP_ROLE is replaced by the quoted role name (GrantApp).
GRANT USAGE ON SCHEMA public TO APP_ROLE;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO APP_ROLE;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO APP_ROLE;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO APP_ROLE;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO APP_ROLE;
-- the migrations' own bookkeeping: readable (calore version), not writable
REVOKE INSERT, UPDATE, DELETE ON goose_db_version FROM APP_ROLE;
