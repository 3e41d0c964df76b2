-- One row per job a member asked for. Timestamps are unix seconds (REAL).
CREATE TABLE jobs (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id                INTEGER NOT NULL,
    guild_id               INTEGER,
    channel_id             INTEGER NOT NULL,
    status_message_id      INTEGER,
    interaction_token      TEXT,
    interaction_expires_at REAL,
    provider               TEXT    NOT NULL CHECK (provider IN ('suno', 'udio')),
    action                 TEXT    NOT NULL CHECK (action IN ('MUSIC', 'LYRICS')),
    kind                   TEXT    NOT NULL DEFAULT 'generate',
    parent_job_id          INTEGER REFERENCES jobs (id),
    task_id                TEXT,
    params                 TEXT    NOT NULL DEFAULT '{}',
    state                  TEXT    NOT NULL CHECK (state IN (
                               'submitting', 'submit_failed', 'queued', 'running',
                               'succeeded', 'failed', 'timed_out', 'cancelled')),
    progress               INTEGER,
    result                 TEXT,
    error                  TEXT,
    created_at             REAL    NOT NULL,
    updated_at             REAL    NOT NULL,
    submitted_at           REAL,
    finished_at            REAL,
    delivery               TEXT    NOT NULL DEFAULT 'none' CHECK (delivery IN (
                               'none', 'pending', 'claimed', 'delivered', 'abandoned')),
    delivery_claimed_at    REAL,
    delivery_attempts      INTEGER NOT NULL DEFAULT 0,
    delivered_at           REAL,
    delivered_channel_id   INTEGER,
    delivered_message_id   INTEGER,
    delivery_error         TEXT
);

-- The poller's query: every job CometAPI is still working on.
CREATE INDEX jobs_in_flight ON jobs (state, provider, action) WHERE state IN ('queued', 'running');
-- Finished jobs waiting to be posted, and claims that may have been abandoned by a crash.
CREATE INDEX jobs_to_deliver ON jobs (delivery) WHERE delivery IN ('pending', 'claimed');
-- "This member's recent jobs" for /status.
CREATE INDEX jobs_by_user ON jobs (user_id, created_at DESC);
-- Jobs stuck between "recorded" and "CometAPI answered" after a crash.
CREATE INDEX jobs_submitting ON jobs (state) WHERE state = 'submitting';
CREATE UNIQUE INDEX jobs_task ON jobs (provider, task_id) WHERE task_id IS NOT NULL;
