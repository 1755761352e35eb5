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
