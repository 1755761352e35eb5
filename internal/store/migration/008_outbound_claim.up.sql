-- An attempt of the push claims an order's outbound row before it calls EKM for it
-- (issue 12): an attempt Temporal has given up on may still be running when the
-- next one starts, and both must not send the same despatch. The claim is a lease:
-- its owner renews it while it works and before each write, and a claim whose
-- owner died expires by itself.
ALTER TABLE order_outbound
    ADD COLUMN claimed_by    text,
    ADD COLUMN claimed_until timestamptz;
