-- Wakes `calore relay` when outbox rows are written: one NOTIFY on channel
-- calore_outbox per inserting statement (PostgreSQL folds repeats within a
-- transaction and delivers them at commit). Relays also poll, so a lost
-- notification only delays publishing.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('calore_outbox', '');
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

-- +goose Down
DROP TRIGGER outbox_notify ON outbox;
DROP FUNCTION outbox_notify();
