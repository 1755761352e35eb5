-- The listing download's bookkeeping beyond 001's four fields.

ALTER TABLE listing_downloads
    -- Products EKM sent that could not be read (no id, malformed JSON). A download
    -- with any is incomplete: it removes nothing, since the unreadable product may
    -- be one of the listings it did not see.
    ADD COLUMN bad_products          integer NOT NULL DEFAULT 0,
    -- What the last complete download changed: listings it marked removed, and
    -- removed listings it saw again.
    ADD COLUMN listings_removed      integer NOT NULL DEFAULT 0,
    ADD COLUMN listings_restored     integer NOT NULL DEFAULT 0,
    -- The generation whose finish was committed, so that a retried finish does
    -- the work once.
    ADD COLUMN completed_generation  bigint;

