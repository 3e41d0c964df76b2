-- Making music together: likes, song battles, weekly challenges, jam threads and song of the day.
-- Timestamps are unix seconds (REAL). Every vote and like has a primary key per (thing, member), so two presses
-- at the same instant count once.

-- One like per member per song.
CREATE TABLE likes (
    job_id     INTEGER NOT NULL REFERENCES jobs (id),
    user_id    INTEGER NOT NULL,
    guild_id   INTEGER,
    created_at REAL    NOT NULL,
    PRIMARY KEY (job_id, user_id)
);
CREATE INDEX likes_by_guild ON likes (guild_id, created_at);

-- Songs whose post was deleted (by their member or a moderator): they drop out of charts, battles, challenges
-- and song of the day.
CREATE TABLE removed_songs (
    job_id     INTEGER PRIMARY KEY REFERENCES jobs (id),
    removed_by INTEGER,
    removed_at REAL    NOT NULL
);

-- A song battle: two takes of one Suno job (job_b NULL), or a Suno job against a Udio job on the same prompt.
-- making → open (face-off posted, votes taken until closes_at) → closed (result posted), or called_off.
CREATE TABLE battles (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id          INTEGER NOT NULL,
    channel_id        INTEGER NOT NULL,
    starter_id        INTEGER NOT NULL,
    prompt            TEXT    NOT NULL,
    mode              TEXT    NOT NULL CHECK (mode IN ('takes', 'versus')),
    job_a             INTEGER NOT NULL REFERENCES jobs (id),
    job_b             INTEGER REFERENCES jobs (id),
    state             TEXT    NOT NULL CHECK (state IN ('making', 'open', 'closed', 'called_off')),
    voting_seconds    REAL    NOT NULL,
    created_at        REAL    NOT NULL,
    opened_at         REAL,
    closes_at         REAL,
    message_id        INTEGER,
    closed_at         REAL,
    winner            TEXT    CHECK (winner IN ('a', 'b', 'tie')),
    votes_a           INTEGER,
    votes_b           INTEGER,
    note              TEXT,
    result_message_id INTEGER
);
CREATE INDEX battles_by_state ON battles (state, closes_at);

CREATE TABLE battle_votes (
    battle_id INTEGER NOT NULL REFERENCES battles (id),
    user_id   INTEGER NOT NULL,
    choice    TEXT    NOT NULL CHECK (choice IN ('a', 'b')),
    voted_at  REAL    NOT NULL,
    PRIMARY KEY (battle_id, user_id)
);

-- A weekly challenge: open (entries) until submit_ends_at → voting (anonymous) until vote_ends_at → closed.
CREATE TABLE challenges (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id          INTEGER NOT NULL,
    channel_id        INTEGER NOT NULL,
    theme             TEXT    NOT NULL,
    started_by        INTEGER NOT NULL,
    state             TEXT    NOT NULL CHECK (state IN ('open', 'voting', 'closed', 'cancelled')),
    started_at        REAL    NOT NULL,
    submit_ends_at    REAL    NOT NULL,
    voting_seconds    REAL    NOT NULL,
    vote_ends_at      REAL,
    vote_message_id   INTEGER,
    result_message_id INTEGER,
    closed_at         REAL
);
CREATE INDEX challenges_by_guild ON challenges (guild_id, state);

-- One entry per member per challenge (submitting again replaces it); a moderator may take one out.
CREATE TABLE challenge_entries (
    challenge_id INTEGER NOT NULL REFERENCES challenges (id),
    user_id      INTEGER NOT NULL,
    job_id       INTEGER NOT NULL REFERENCES jobs (id),
    submitted_at REAL    NOT NULL,
    removed_by   INTEGER,
    PRIMARY KEY (challenge_id, user_id)
);

CREATE TABLE challenge_votes (
    challenge_id  INTEGER NOT NULL REFERENCES challenges (id),
    voter_id      INTEGER NOT NULL,
    entry_user_id INTEGER NOT NULL,
    voted_at      REAL    NOT NULL,
    PRIMARY KEY (challenge_id, voter_id)
);

-- A jam thread and the lyric lines members add to it; each song made from it credits its contributors.
CREATE TABLE jams (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id   INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    thread_id  INTEGER NOT NULL UNIQUE,
    starter_id INTEGER NOT NULL,
    theme      TEXT    NOT NULL,
    created_at REAL    NOT NULL
);

CREATE TABLE jam_lines (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    jam_id   INTEGER NOT NULL REFERENCES jams (id),
    user_id  INTEGER NOT NULL,
    line     TEXT    NOT NULL,
    added_at REAL    NOT NULL
);
CREATE INDEX jam_lines_by_jam ON jam_lines (jam_id, id);

-- The songs made from a jam, and who they credit (a JSON list of user ids, in order of first line).
CREATE TABLE jam_songs (
    job_id  INTEGER PRIMARY KEY REFERENCES jobs (id),
    jam_id  INTEGER NOT NULL REFERENCES jams (id),
    credits TEXT    NOT NULL
);

-- Song of the day: one row per guild and UTC day featured (job_id NULL: nothing was liked that day).
CREATE TABLE song_of_day (
    guild_id   INTEGER NOT NULL,
    day        REAL    NOT NULL,
    job_id     INTEGER REFERENCES jobs (id),
    channel_id INTEGER,
    message_id INTEGER,
    posted_at  REAL    NOT NULL,
    PRIMARY KEY (guild_id, day)
);

-- Admin settings: where song of the day goes (NULL: off), and how long battles take votes.
ALTER TABLE guild_settings ADD COLUMN song_of_day_channel_id INTEGER;
ALTER TABLE guild_settings ADD COLUMN battle_minutes INTEGER NOT NULL DEFAULT 1440;
