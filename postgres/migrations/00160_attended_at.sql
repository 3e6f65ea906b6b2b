-- A registration marked attended without a time is dated at its event's
-- start: old systems record presence, not check-in times, and the warehouse,
-- heat and the donation model count attendance by attended_at. One rule for
-- every writer (store, importer, bulk loader). Rows stored before this
-- migration are left as they are (changing them here would bypass the outbox
-- and leave the warehouse behind): re-import the file to date them.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION registration_attended_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'attended' AND NEW.attended_at IS NULL THEN
        NEW.attended_at := (SELECT e.starts_at FROM events e WHERE e.id = NEW.event_id);
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER registration_attended_at BEFORE INSERT OR UPDATE ON registrations
    FOR EACH ROW EXECUTE FUNCTION registration_attended_at();

-- +goose Down
DROP TRIGGER registration_attended_at ON registrations;
DROP FUNCTION registration_attended_at();
