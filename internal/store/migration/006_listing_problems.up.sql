-- Products a listing download could not store, with the reason: unreadable
-- JSON, too large for the client's body bound even alone, or figures beyond the
-- listings' columns. They never stop a download. Unreadable ones and those that
-- do not fit count in bad_products, which keeps that download from removing
-- anything; a product too large to read keeps its listings as they were (the
-- check of unseen products finds it by id). 'listings problems' lists those
-- the latest downloads saw.
CREATE TABLE listing_problems (
    channel_id      bigint NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    problem_key     text NOT NULL,   -- "product:<id>", or the product's position or a hash when its id is unknown
    product_id      bigint,
    reason          text NOT NULL,
    generation      bigint NOT NULL, -- the download that saw it last
    first_seen_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel_id, problem_key)
);
