-- Registrations by event and kind of person, per refresh
-- (kpi/sql/rollup_event_regs.sql): registration rows (latest version, not
-- deleted), people registered (registered, attended or no-show) and people
-- who attended, for events not deleted, with the event's start and office.
CREATE TABLE IF NOT EXISTS rollup_event_regs
(
    refresh_id    UInt64,
    event_id      Int64,
    starts_at     DateTime,
    office        String,
    kind          String,
    registrations UInt64,
    registered    UInt64,
    attended      UInt64
)
ENGINE = MergeTree
PARTITION BY refresh_id
ORDER BY (starts_at, event_id, kind)
