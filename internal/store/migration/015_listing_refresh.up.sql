-- The listing refresh (issue 18, docs/channel-semantics.md §9): between full
-- listing downloads, the products EKM modified since the last download or
-- refresh, upserted like a download's pages. It never marks a listing removed:
-- the full download stays the only source of removals.
--
-- listing_refresh_interval_seconds: how often the worker refreshes a channel's
-- listings (default hourly; 0: never on a schedule, 'starter listings refresh'
-- still runs on demand).
ALTER TABLE channels ADD COLUMN listing_refresh_interval_seconds integer NOT NULL DEFAULT 3600
    CHECK (listing_refresh_interval_seconds >= 0);

-- One row per channel: the refresh's cursor, its last run, and the scheduled
-- refresh's claim, so that of all the workers exactly one runs a due refresh; a
-- claim whose worker died lapses at claimed_until.
CREATE TABLE listing_refreshes (
    channel_id          bigint PRIMARY KEY REFERENCES channels (id) ON DELETE CASCADE,
    claimed_until       timestamptz,
    claimed_by          text,
    -- When the last finished listing download began (every page read), set by
    -- its finish: it read every product modified before then.
    download_started_at timestamptz,
    -- The cursor: the newest last_modified (EKM's clock) of a product whose
    -- listings are committed, moved in the transaction that commits them. A
    -- refresh reads from the later of the two, less a margin for clock skew and
    -- EKM's commit order.
    modified_since      timestamptz,
    last_run_at         timestamptz,  -- the last refresh, scheduled or on demand, that ended
    last_error          text,         -- why it failed, NULL when it worked
    last_ok_at          timestamptz,  -- the last refresh that worked
    last_products       integer NOT NULL DEFAULT 0,  -- products it read
    last_listings       integer NOT NULL DEFAULT 0   -- listings it upserted
);

-- A channel whose last download finished before this migration starts from it;
-- one without waits for its next download.
INSERT INTO listing_refreshes (channel_id, download_started_at)
SELECT channel_id, start_time FROM listing_downloads
WHERE completed_generation = generation AND NOT in_progress AND start_time IS NOT NULL;
