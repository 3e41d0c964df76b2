-- CometAPI has no cancel: a cancelled job keeps running (and costing) until CometAPI finishes it, so
-- cancelling only marks it; the poller keeps following it and it is never posted.
ALTER TABLE jobs ADD COLUMN cancel_requested_at REAL;
-- A song that finished after the bot had reported its job timed out is posted late, once, with a note.
ALTER TABLE jobs ADD COLUMN late INTEGER NOT NULL DEFAULT 0;
