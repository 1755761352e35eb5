-- Drift reconciliation (issue 18, docs/channel-semantics.md §9).
--
-- drift_interval_seconds: how often the worker compares the channel's EKM listings
-- and orders with the hub (default daily; 0: never on a schedule, 'starter channel
-- drift' still runs on demand).
ALTER TABLE channels ADD COLUMN drift_interval_seconds integer NOT NULL DEFAULT 86400
    CHECK (drift_interval_seconds >= 0);

-- One row per channel: the last comparison's figures (the metrics read them) and
-- the scheduled comparison's claim, so that of all the workers exactly one runs a
-- due comparison; a claim whose worker died lapses at claimed_until.
CREATE TABLE drift_runs (
    channel_id    bigint PRIMARY KEY REFERENCES channels (id) ON DELETE CASCADE,
    claimed_until timestamptz,
    claimed_by    text,
    last_run_at   timestamptz,  -- the last comparison, scheduled or on demand, that ended
    last_error    text,         -- why it failed, NULL when it worked
    checked_at    timestamptz,  -- the last comparison that worked
    counts        jsonb         -- its drifted rows by kind (drift.Counts)
);
