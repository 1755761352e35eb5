-- The outbound push's ledgers (issue 7): a queue of order work kept by triggers, so
-- that whatever changes an order (the CLI, SQL, another system) it is picked up, and
-- per-listing retry state for stock and price.

-- An order can carry both a despatch and a (partial) cancellation record: a partial
-- cancellation, recorded as not sent, must not hide a later despatch of the rest.
ALTER TABLE order_outbound DROP CONSTRAINT order_outbound_pkey;
ALTER TABLE order_outbound ADD PRIMARY KEY (order_id, kind);
-- Until this time, an order that EKM rejected is not tried again (backoff).
ALTER TABLE order_outbound ADD COLUMN retry_after timestamptz;
-- The push reads only the open rows: the queue stays small however many orders
-- were despatched before.
CREATE INDEX order_outbound_open ON order_outbound (order_id) WHERE done_at IS NULL;

-- Per listing: the quantity and price being sent (an attempt's value, which resets
-- the attempt count when it changes), when it was last tried, and until when a
-- value EKM rejected is not tried again.
ALTER TABLE listing_outbound
    ADD COLUMN stock_target       bigint,
    ADD COLUMN stock_attempted_at timestamptz,
    ADD COLUMN stock_retry_after  timestamptz,
    ADD COLUMN price_target       numeric(12,2),
    ADD COLUMN price_attempted_at timestamptz,
    ADD COLUMN price_retry_after  timestamptz;

-- Enqueue outbound order work as soon as the hub changes an order: a shipped order
-- (not fulfilled on the channel) needs a despatch, an order cancelled by the hub a
-- cancellation. A partial cancellation's record is reopened when the order is then
-- cancelled in full.
CREATE FUNCTION ekmsync_enqueue_order_outbound() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'shipped' AND NOT NEW.shipped_on_channel THEN
        INSERT INTO order_outbound (order_id, kind) VALUES (NEW.id, 'despatch')
            ON CONFLICT (order_id, kind) DO NOTHING;
    ELSIF NEW.status = 'cancelled' AND NEW.cancelled_by = 'hub' THEN
        INSERT INTO order_outbound (order_id, kind) VALUES (NEW.id, 'cancellation')
            ON CONFLICT (order_id, kind) DO UPDATE
            SET done_at = NULL, outcome = NULL, updated_at = now()
            WHERE order_outbound.outcome = 'not sent: partial';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER orders_enqueue_outbound AFTER INSERT OR UPDATE OF status, cancelled_by ON orders
    FOR EACH ROW WHEN (NEW.status <> 'open') EXECUTE FUNCTION ekmsync_enqueue_order_outbound();

-- A line cancelled in part: the push records it as not sent (EKM has no line cancel).
CREATE FUNCTION ekmsync_enqueue_line_cancellation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO order_outbound (order_id, kind) VALUES (NEW.order_id, 'cancellation')
        ON CONFLICT (order_id, kind) DO NOTHING;
    RETURN NULL;
END $$;

CREATE TRIGGER order_lines_enqueue_cancellation AFTER INSERT OR UPDATE OF cancelled_quantity ON order_lines
    FOR EACH ROW WHEN (NEW.cancelled_quantity > 0) EXECUTE FUNCTION ekmsync_enqueue_line_cancellation();

-- Reservations are shared by every channel: a new order, a line change, or an order
-- leaving 'open' on one channel changes the quantity sent by all of them. These
-- statement triggers wake every channel's push (a payload without channel_id), as
-- do changes of a listing's quantity overrides.
CREATE FUNCTION ekmsync_notify_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(TG_TABLE_SCHEMA || '.ekmsync', json_build_object('table', TG_TABLE_NAME)::text);
    RETURN NULL;
END $$;

CREATE TRIGGER orders_reservation_notify AFTER INSERT OR UPDATE OF status ON orders
    FOR EACH STATEMENT EXECUTE FUNCTION ekmsync_notify_all();
CREATE TRIGGER order_lines_reservation_notify AFTER INSERT OR UPDATE OF quantity, cancelled_quantity, sku ON order_lines
    FOR EACH STATEMENT EXECUTE FUNCTION ekmsync_notify_all();
CREATE TRIGGER listings_overrides_notify
    AFTER UPDATE OF max_listed_override, stock_percentage_override, end_when_override ON listings
    FOR EACH STATEMENT EXECUTE FUNCTION ekmsync_notify_all();
