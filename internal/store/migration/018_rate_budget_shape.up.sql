-- The shape of each channel's EKM bucket as a worker last learnt it from EKM's
-- rate headers (size in requests, leak in requests a second, step in requests a
-- leak interval), so that a process that starts, or restarts, while others keep
-- the bucket busy uses the shop's real bucket from its first request instead of
-- EKM's default (40 leaking 2 a second). Against a bigger bucket the default made a
-- fresh process wait for the level to leak to 40: 80 s at 200 leaking 2 a second.
-- NULL: no process has learnt it yet, and the default stands until one does.
ALTER TABLE ekm_rate_budget
    ADD COLUMN size double precision CHECK (size > 0),
    ADD COLUMN leak double precision CHECK (leak > 0),
    ADD COLUMN step double precision CHECK (step > 0);
