-- One shop, one budget, however many workers (issue 14; docs/rate-budget.md).
--
-- The level of each channel's EKM bucket (requests counted and not yet leaked, as
-- of leaked_at by the database's clock), shared by every worker process and the
-- CLI: each request takes one token here, under the row's lock, before it is sent.
-- A process that dies holds nothing: what it took was sent, and leaks away.
--
-- UNLOGGED: the rows change with every EKM request and are worth nothing after a
-- crash (an empty bucket is where a restarted worker starts anyway; EKM's own
-- headers and a 429 correct it), so they are spared the WAL. channel is the
-- channel's name, as the workers key their clients; a purged channel's row is
-- five numbers, and a channel added again under that name is the same shop.
CREATE UNLOGGED TABLE ekm_rate_budget (
    channel       text PRIMARY KEY,
    level         double precision NOT NULL DEFAULT 0 CHECK (level >= 0),
    leaked_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    blocked_until timestamptz
);
