-- The process that records a job also submits it: crash recovery fails an unfinished submit only when it
-- belongs to this process (and is not under way) or to a process that is gone, never to a live one.
ALTER TABLE jobs ADD COLUMN submit_owner TEXT;
