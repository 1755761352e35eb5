-- Credentials go only to EKM (issue 12).
--
-- bound_to is the API a channel's client secret and tokens are sealed for: the API
-- mode and base URL, "ekm https://api.ekm.net" or "simulator http://127.0.0.1:8090".
-- It is part of every box's authenticated data (internal/store/binding.go), so it
-- cannot be edited without the boxes failing to open, and the worker sends nothing
-- when channels.api_base_url is not the bound URL. NULL: sealed before this
-- migration; bound at first use when the URL is EKM's or a loopback address.
ALTER TABLE channel_credentials ADD COLUMN bound_to text;

-- 'refused': the worker found api_base_url changed outside the CLI and sends no
-- credential until 'starter channel set <name> api-base-url=...' re-binds them.
ALTER TABLE channels DROP CONSTRAINT channels_auth_state_check;
ALTER TABLE channels ADD CONSTRAINT channels_auth_state_check
    CHECK (auth_state IN ('unauthorised', 'ok', 'needs-reauth', 'refused'));

-- The triggers that queue outbound work and wake the push run with their owner's
-- rights, so that an integrator's role (docs/integrator-role.sql) needs no right on
-- the push's own tables. Their search_path is pinned to this schema (and pg_temp
-- last), as a SECURITY DEFINER function's must be.
DO $$
DECLARE
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY['ekmsync_notify_change()', 'ekmsync_notify_all()',
                             'ekmsync_enqueue_order_outbound()', 'ekmsync_enqueue_line_cancellation()'] LOOP
        EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = %I, pg_temp', f, current_schema());
    END LOOP;
END $$;
