-- Shadow mode (issue 18): a channel in shadow reads from EKM as usual, and its
-- push computes every write it would send without sending it. Default live:
-- what every channel did before.
ALTER TABLE channels ADD COLUMN shadow boolean NOT NULL DEFAULT false;

-- push_plan: each EKM write the push of a channel in shadow would send, with the
-- values and the reason, as its latest pass computed it. A pass replaces the
-- rows of its kind; a pass in live mode deletes them (the ledger sends them).
-- The ledger (order_outbound, listing_outbound) stays the only record of what
-- is to be sent: this table is a view of it for the operator, never read by
-- the push to decide a send.
CREATE TABLE push_plan (
    channel_id bigint      NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    kind       text        NOT NULL CHECK (kind IN ('despatch', 'cancellation', 'stock', 'price')),
    write      text        NOT NULL, -- EKM's endpoint, as the simulator names it: order.status, product.stock, ...
    target     text        NOT NULL, -- "order 123", "product 5", "product 5 variant 7" (EKM's ids)
    subject    text        NOT NULL, -- the order number or the SKU
    ekm_order_id   bigint,
    ekm_product_id bigint,
    ekm_variant_id bigint,
    vals       jsonb       NOT NULL, -- what it would send
    reason     text        NOT NULL,
    planned_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel_id, kind, write, target)
);
