-- Order sync: what the first schema lacked.

-- Orders the sync skipped because they were not paid (Download Unpaid Orders off,
-- or an Unmapped or Paid status without EKM's payment), and that may still become
-- paid. The Order Sync Date moves past them, so without this list an order paid
-- later would depend on EKM stamping last_updated or sending a webhook. Each sync
-- re-reads them by id (20 per request) for a week after their order date, and
-- removes each as soon as it is stored or can no longer be downloaded.
CREATE TABLE order_watch (
    channel_id      bigint NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    ekm_order_id    bigint NOT NULL,
    order_date      timestamptz NOT NULL,
    reason          text NOT NULL,
    first_seen_at   timestamptz NOT NULL DEFAULT now(),
    last_checked_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel_id, ekm_order_id)
);

-- A new open order reserves stock, so the push loop must hear of it: the first
-- schema notified only status changes.
CREATE TRIGGER orders_notify_insert AFTER INSERT ON orders
    FOR EACH ROW EXECUTE FUNCTION ekmsync_notify_change();
