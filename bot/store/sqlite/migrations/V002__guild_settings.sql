-- Per-guild settings an admin changes with /chorus. A guild without a row uses the defaults in code.
CREATE TABLE guild_settings (
    guild_id           INTEGER PRIMARY KEY,
    allowed_channels   TEXT    NOT NULL DEFAULT '[]',
    required_role_id   INTEGER,
    default_suno_model TEXT,
    default_udio_model TEXT,
    suno_enabled       INTEGER NOT NULL DEFAULT 1,
    udio_enabled       INTEGER NOT NULL DEFAULT 1,
    max_concurrent     INTEGER NOT NULL,
    daily_quota        INTEGER NOT NULL,
    daily_budget       INTEGER NOT NULL,
    cooldown_seconds   INTEGER NOT NULL,
    updated_at         REAL    NOT NULL,
    updated_by         INTEGER
);

-- Limits and /chorus usage count a guild's jobs by day.
CREATE INDEX jobs_by_guild ON jobs (guild_id, created_at);
