-- Personas ("house voices"): a server's reusable Suno voices, made from one of its songs.
CREATE TABLE personas (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id      INTEGER NOT NULL,
    name          TEXT    NOT NULL,
    description   TEXT    NOT NULL DEFAULT '',
    persona_id    TEXT    NOT NULL,
    root_clip_id  TEXT    NOT NULL,
    source_job_id INTEGER,
    created_by    INTEGER NOT NULL,
    created_at    REAL    NOT NULL,
    UNIQUE (guild_id, name)
);
-- Credit alerts: where an admin wants to hear that CometAPI's balance runs low, below what, and whether the
-- warning for the current low spell was posted already (once per spell).
ALTER TABLE guild_settings ADD COLUMN alert_channel_id INTEGER;
ALTER TABLE guild_settings ADD COLUMN credit_alert_below REAL;
ALTER TABLE guild_settings ADD COLUMN credit_warned_at REAL;
