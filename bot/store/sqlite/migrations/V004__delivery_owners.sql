-- Delivery claims name the process that holds them, and processes keep a heartbeat, so a claim left by a
-- process that is gone is taken over at once instead of after a fixed lease.
ALTER TABLE jobs ADD COLUMN delivery_owner TEXT;
CREATE TABLE workers (
    owner        TEXT PRIMARY KEY,
    host         TEXT    NOT NULL,
    pid          INTEGER NOT NULL,
    started_at   REAL    NOT NULL,
    heartbeat_at REAL    NOT NULL
);
