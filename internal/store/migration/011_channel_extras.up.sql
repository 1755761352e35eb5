-- Customer e-mails and the refresh token's keep-alive as channel settings (issue 18).
--
-- email_on_despatch / email_on_cancellation are EKM's email_customer flag on the
-- status update the push sends for a despatch / a full cancellation. The defaults
-- keep what ekmsync did before: an e-mail on despatch, none on cancellation.
ALTER TABLE channels ADD COLUMN email_on_despatch boolean NOT NULL DEFAULT true;
ALTER TABLE channels ADD COLUMN email_on_cancellation boolean NOT NULL DEFAULT false;

-- token_keepalive: refresh the channel's tokens well before EKM's refresh token
-- lapses (15 days after its last use), enabled or not. The refresh token's last
-- use is channel_credentials.refreshed_at: each use returns a new token, stored
-- with that time.
ALTER TABLE channels ADD COLUMN token_keepalive boolean NOT NULL DEFAULT true;

-- lapse_warned_at: when the warning of a coming lapse was last given, so that it
-- is given once a day, not at every keep-alive pass.
ALTER TABLE channel_credentials ADD COLUMN lapse_warned_at timestamptz;

-- Delivery methods (issue 18): each EKM delivery method maps to the hub's own
-- delivery service, per channel, like the status mapping. EKM's names compare
-- case-insensitively; the CLI keeps one row per name whatever its case.
CREATE TABLE channel_delivery_map (
    channel_id  bigint NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    ekm_method  text   NOT NULL,
    hub_service text   NOT NULL,
    PRIMARY KEY (channel_id, ekm_method)
);

-- An order keeps EKM's delivery method and the hub's service it maps to. When the
-- channel maps methods and this one has no mapping (or the order has none),
-- delivery_unmapped is set and delivery_service stays NULL: never a default.
-- 'starter orders problems' lists them; a new mapping re-maps the open ones.
ALTER TABLE orders ADD COLUMN ekm_delivery_method text;
ALTER TABLE orders ADD COLUMN delivery_service text;
ALTER TABLE orders ADD COLUMN delivery_unmapped boolean NOT NULL DEFAULT false;
CREATE INDEX orders_delivery_unmapped ON orders (channel_id) WHERE delivery_unmapped;
