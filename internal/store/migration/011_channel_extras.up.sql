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
