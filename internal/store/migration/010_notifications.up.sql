-- What the worker told an operator (EKMSYNC_NOTIFY_URL), one row per channel and
-- event kind (issue 16). Inserting or re-opening a row is the claim that makes
-- exactly one worker process send the notification; cleared_at is set once the
-- event no longer holds, so that it is sent again when it recurs (at most once
-- per debounce window after the last send).
CREATE TABLE notifications (
    channel_id  bigint NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    event       text NOT NULL CHECK (event ~ '^[a-z0-9-]{1,40}$'),
    detail      text NOT NULL,
    sent_at     timestamptz,   -- NULL: the send failed; the next check tries again
    cleared_at  timestamptz,   -- NULL: the event still holds
    PRIMARY KEY (channel_id, event)
);

-- EKM's throttling of each channel, as every worker process sees it: a run of 429
-- answers with gaps under 5 minutes (first_at to last_at). Written at most every
-- 10 s per channel and process; the notifications read it.
CREATE TABLE ekm_throttles (
    channel_id  bigint PRIMARY KEY REFERENCES channels (id) ON DELETE CASCADE,
    first_at    timestamptz NOT NULL,
    last_at     timestamptz NOT NULL
);
