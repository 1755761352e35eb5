-- Webhooks that only EKM can send (issue 12): each channel's subscription URL
-- carries a random token, kept here only as its SHA-256 (the token has 256 bits
-- of entropy, so a plain hash cannot be reversed), and the URL the channel
-- subscribed with, its token redacted, for 'channel show'.
CREATE TABLE webhook_tokens (
    channel_id    bigint PRIMARY KEY REFERENCES channels (id) ON DELETE CASCADE,
    token_hash    bytea NOT NULL CHECK (length(token_hash) = 32),
    endpoint      text,          -- the subscribed URL, token redacted; NULL: not subscribed
    created_at    timestamptz NOT NULL DEFAULT now(),
    subscribed_at timestamptz
);

-- The order ids the webhook receiver handed to the order-sync loop, shared by
-- every worker process: a duplicate within a short time is not signalled again,
-- the hints a channel gets per minute are bounded, and an id EKM answered "not
-- found" is not asked again until not_found_until.
CREATE TABLE webhook_hints (
    channel_id      bigint NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    ekm_order_id    bigint NOT NULL,
    signalled_at    timestamptz NOT NULL DEFAULT now(),
    not_found_until timestamptz,
    PRIMARY KEY (channel_id, ekm_order_id)
);
CREATE INDEX webhook_hints_recent ON webhook_hints (channel_id, signalled_at);
