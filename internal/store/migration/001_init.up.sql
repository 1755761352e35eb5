-- The first schema of the hub: channels and their settings, credentials, the hub's
-- stock and prices, listings and orders downloaded from EKM, the state of each flow,
-- the outbound ledger and the audit log.

-- A channel is one EKM shop. Every setting of the channel screen is a column, so a
-- change is one UPDATE that the audit trigger below records.
CREATE TABLE channels (
    id                          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                        text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    api_base_url                text NOT NULL,
    client_id                   text NOT NULL,
    redirect_url                text NOT NULL,
    shop_username               text,
    enabled                     boolean NOT NULL DEFAULT false,
    currency                    text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    despatch_notes              boolean NOT NULL DEFAULT true,
    cancellation_notes          boolean NOT NULL DEFAULT true,
    download_unpaid             boolean NOT NULL DEFAULT false,
    use_ekm_tax                 boolean NOT NULL DEFAULT true,
    prices_include_tax          boolean NOT NULL DEFAULT false,
    default_tax_rate            numeric(6,3) NOT NULL DEFAULT 20 CHECK (default_tax_rate >= 0 AND default_tax_rate <= 100),
    update_inventory            boolean NOT NULL DEFAULT true,
    max_listed                  integer NOT NULL DEFAULT 0 CHECK (max_listed >= 0),
    stock_percentage            integer NOT NULL DEFAULT 100 CHECK (stock_percentage BETWEEN 0 AND 100),
    end_when                    integer NOT NULL DEFAULT 0 CHECK (end_when >= 0),
    price_change                boolean NOT NULL DEFAULT false,
    stock_locations             text[],            -- NULL: every location
    order_sync_interval_seconds integer NOT NULL DEFAULT 300 CHECK (order_sync_interval_seconds > 0),
    order_overlap_seconds       integer NOT NULL DEFAULT 600 CHECK (order_overlap_seconds >= 0),
    listing_interval_seconds    integer NOT NULL DEFAULT 43200 CHECK (listing_interval_seconds > 0),
    push_sweep_seconds          integer NOT NULL DEFAULT 60 CHECK (push_sweep_seconds > 0),
    shop_statuses               text[] NOT NULL DEFAULT '{}',  -- the shop's statuses, read from EKM
    auth_state                  text NOT NULL DEFAULT 'unauthorised'
                                CHECK (auth_state IN ('unauthorised', 'ok', 'needs-reauth')),
    auth_error                  text,
    removed_at                  timestamptz,       -- removed without --purge: hidden, data kept
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now()
);

-- Order Status Mapping: every EKM status of the shop maps to one target.
CREATE TABLE channel_status_map (
    channel_id  bigint NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    ekm_status  text NOT NULL,
    target      text NOT NULL CHECK (target IN ('unmapped', 'paid', 'unpaid', 'shipped', 'cancelled')),
    PRIMARY KEY (channel_id, ekm_status)
);
CREATE UNIQUE INDEX channel_status_map_ci ON channel_status_map (channel_id, upper(ekm_status));

-- Credentials, sealed with AES-256-GCM under EKMSYNC_SECRET_KEY (internal/secret).
CREATE TABLE channel_credentials (
    channel_id        bigint PRIMARY KEY REFERENCES channels (id) ON DELETE CASCADE,
    client_secret     bytea NOT NULL,
    access_token      bytea,
    refresh_token     bytea,
    access_expires_at timestamptz,
    refreshed_at      timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- The last errors of each channel, for 'channel show'.
CREATE TABLE channel_errors (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel_id  bigint NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL DEFAULT now(),
    flow        text NOT NULL,
    message     text NOT NULL
);
CREATE INDEX channel_errors_recent ON channel_errors (channel_id, at DESC);

-- The hub's own stock records.
CREATE TABLE stock_items (
    sku         text PRIMARY KEY CHECK (sku <> ''),
    title       text NOT NULL DEFAULT '',
    tax_rate    numeric(6,3) CHECK (tax_rate >= 0 AND tax_rate <= 100),  -- NULL: the channel's default rate
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE stock_levels (
    sku         text NOT NULL REFERENCES stock_items (sku) ON DELETE CASCADE ON UPDATE CASCADE,
    location    text NOT NULL DEFAULT 'default',
    level       integer NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sku, location)
);

CREATE TABLE prices (
    sku         text PRIMARY KEY REFERENCES stock_items (sku) ON DELETE CASCADE ON UPDATE CASCADE,
    price       numeric(12,2) NOT NULL CHECK (price >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Listings: one per sellable SKU of the shop (a product without variants, or a
-- variant). variant_id 0 is the product itself. A listing links to the stock item
-- with the same SKU, unless its SKU is empty or duplicated (sku_problem).
CREATE TABLE listings (
    channel_id                  bigint NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    product_id                  bigint NOT NULL,
    variant_id                  bigint NOT NULL DEFAULT 0,
    sku                         text NOT NULL DEFAULT '',
    name                        text NOT NULL DEFAULT '',
    variant_name                text NOT NULL DEFAULT '',
    live                        boolean NOT NULL DEFAULT true,
    ekm_price                   numeric(12,2),   -- as seen by the latest download
    ekm_stock                   bigint,          -- as seen by the latest download
    sku_problem                 text CHECK (sku_problem IN ('empty', 'duplicate')),
    seen_generation             bigint NOT NULL,
    removed_at                  timestamptz,
    max_listed_override         integer CHECK (max_listed_override >= 0),
    stock_percentage_override   integer CHECK (stock_percentage_override BETWEEN 0 AND 100),
    end_when_override           integer CHECK (end_when_override >= 0),
    first_seen_at               timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel_id, product_id, variant_id)
);
CREATE INDEX listings_sku ON listings (sku) WHERE removed_at IS NULL;

-- Listing download state: the four fields of the channel screen plus the resume point.
CREATE TABLE listing_downloads (
    channel_id            bigint PRIMARY KEY REFERENCES channels (id) ON DELETE CASCADE,
    generation            bigint NOT NULL DEFAULT 0,
    in_progress           boolean NOT NULL DEFAULT false,
    start_time            timestamptz,
    completion_time       timestamptz,   -- of the last complete download
    estimated_completion  timestamptz,
    pages_done            integer NOT NULL DEFAULT 0,
    pages_total           integer,        -- NULL until the first page reports it
    products_total        integer,
    listings_seen         integer NOT NULL DEFAULT 0,
    empty_skus            integer NOT NULL DEFAULT 0,
    duplicate_skus        integer NOT NULL DEFAULT 0,
    workflow_run_id       text,
    last_outcome          text,
    updated_at            timestamptz NOT NULL DEFAULT now()
);

-- Orders downloaded from EKM. (channel_id, ekm_order_id) is the business key.
CREATE TABLE orders (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel_id          bigint NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    ekm_order_id        bigint NOT NULL,
    order_number        text NOT NULL,
    order_date          timestamptz NOT NULL,
    ekm_last_updated    timestamptz,
    ekm_status          text NOT NULL,
    payment_status      text NOT NULL DEFAULT '',
    transaction_id      text NOT NULL DEFAULT '',
    paid                boolean NOT NULL,
    parked              boolean NOT NULL DEFAULT false,
    status              text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'shipped', 'cancelled')),
    shipped_on_channel  boolean NOT NULL DEFAULT false,  -- fulfilled outside the hub: no despatch is sent
    cancelled_by        text CHECK (cancelled_by IN ('channel', 'hub')),
    currency            text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    customer_name       text NOT NULL DEFAULT '',
    customer_email      text NOT NULL DEFAULT '',
    shipping_address    jsonb,
    tax_source          text NOT NULL CHECK (tax_source IN ('ekm', 'hub')),
    ekm_sub_total       numeric(14,4) NOT NULL DEFAULT 0,
    ekm_total_delivery  numeric(14,4) NOT NULL DEFAULT 0,
    ekm_total_tax       numeric(14,4) NOT NULL DEFAULT 0,
    ekm_total_cost      numeric(14,4) NOT NULL DEFAULT 0,
    ekm_discounts_total numeric(14,4) NOT NULL DEFAULT 0,
    sub_total           numeric(14,4) NOT NULL DEFAULT 0,  -- the hub's figures: EKM's, or recomputed
    total_tax           numeric(14,4) NOT NULL DEFAULT 0,
    total_cost          numeric(14,4) NOT NULL DEFAULT 0,
    raw                 jsonb NOT NULL,
    downloaded_at       timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    shipped_at          timestamptz,
    cancelled_at        timestamptz,
    UNIQUE (channel_id, ekm_order_id)
);
CREATE INDEX orders_open ON orders (channel_id) WHERE status = 'open';
CREATE INDEX orders_parked ON orders (channel_id) WHERE parked;
CREATE INDEX orders_date ON orders (channel_id, order_date);

CREATE TABLE order_lines (
    order_id            bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    ekm_item_id         bigint NOT NULL,
    sku                 text NOT NULL DEFAULT '',
    name                text NOT NULL DEFAULT '',
    options             text NOT NULL DEFAULT '',
    quantity            integer NOT NULL CHECK (quantity >= 0),
    cancelled_quantity  integer NOT NULL DEFAULT 0 CHECK (cancelled_quantity >= 0),
    ekm_unit_price      numeric(14,4) NOT NULL DEFAULT 0,
    ekm_tax             numeric(14,4) NOT NULL DEFAULT 0,
    ekm_tax_rate        numeric(6,3) NOT NULL DEFAULT 0,
    ekm_discount        numeric(14,4) NOT NULL DEFAULT 0,
    tax_rate            numeric(6,3) NOT NULL DEFAULT 0,    -- the hub's figures: EKM's, or recomputed
    net                 numeric(14,4) NOT NULL DEFAULT 0,
    tax                 numeric(14,4) NOT NULL DEFAULT 0,
    gross               numeric(14,4) NOT NULL DEFAULT 0,
    linked              boolean NOT NULL DEFAULT false,     -- a stock item with this SKU existed at download
    raw                 jsonb NOT NULL,
    PRIMARY KEY (order_id, ekm_item_id)
);
CREATE INDEX order_lines_sku ON order_lines (sku);

-- Orders that could not be read (missing fields, bad dates, unknown status),
-- quarantined with the reason; they never block the rest.
CREATE TABLE order_problems (
    channel_id      bigint NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    problem_key     text NOT NULL,   -- the EKM order id, or a hash of the raw body when it has none
    ekm_order_id    bigint,
    reason          text NOT NULL,
    raw             text NOT NULL,
    occurrences     integer NOT NULL DEFAULT 1,
    first_seen_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at    timestamptz NOT NULL DEFAULT now(),
    resolved_at     timestamptz,
    PRIMARY KEY (channel_id, problem_key)
);

-- Order sync state: the Order Sync Date and the last run.
CREATE TABLE order_sync_state (
    channel_id          bigint PRIMARY KEY REFERENCES channels (id) ON DELETE CASCADE,
    sync_date           timestamptz,   -- Order Sync Date [UTC]: newest order_date committed
    updated_cursor      timestamptz,   -- newest EKM last_updated processed
    last_run_started_at timestamptz,
    last_run_at         timestamptz,
    last_result         jsonb,
    updated_at          timestamptz NOT NULL DEFAULT now()
);

-- Despatch details set by the hub: one row per parcel (parcel 1 is sent as the
-- tracking number; the others go into EKM's internal notes).
CREATE TABLE shipments (
    order_id        bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    parcel          integer NOT NULL CHECK (parcel >= 1),
    tracking_number text NOT NULL DEFAULT '',
    carrier         text NOT NULL DEFAULT '',
    tracking_url    text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (order_id, parcel)
);

-- Outbound ledger per order: what EKM has confirmed of a despatch or cancellation.
CREATE TABLE order_outbound (
    order_id                bigint PRIMARY KEY REFERENCES orders (id) ON DELETE CASCADE,
    kind                    text NOT NULL CHECK (kind IN ('despatch', 'cancellation')),
    tracking_confirmed_at   timestamptz,
    notes_confirmed_at      timestamptz,
    status_confirmed_at     timestamptz,
    done_at                 timestamptz,
    outcome                 text,     -- sent, already on EKM, not sent: partial, ...
    held_reason             text,
    attempts                integer NOT NULL DEFAULT 0,
    last_error              text,
    last_attempt_at         timestamptz,
    updated_at              timestamptz NOT NULL DEFAULT now()
);

-- Outbound ledger per listing: what EKM last confirmed of stock and price.
CREATE TABLE listing_outbound (
    channel_id          bigint NOT NULL,
    product_id          bigint NOT NULL,
    variant_id          bigint NOT NULL,
    confirmed_qty       bigint,          -- last quantity EKM confirmed (download or push)
    confirmed_price     numeric(12,2),
    stock_sent_at       timestamptz,
    stock_attempts      integer NOT NULL DEFAULT 0,
    stock_error         text,
    price_sent_at       timestamptz,
    price_attempts      integer NOT NULL DEFAULT 0,
    price_error         text,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel_id, product_id, variant_id),
    FOREIGN KEY (channel_id, product_id, variant_id) REFERENCES listings ON DELETE CASCADE
);

-- The audit log: every setting change and every send to EKM.
CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    channel_id  bigint REFERENCES channels (id) ON DELETE SET NULL,
    channel     text,
    actor       text NOT NULL,
    action      text NOT NULL,
    subject     text,
    old_value   text,
    new_value   text,
    detail      jsonb
);
CREATE INDEX audit_log_channel ON audit_log (channel_id, at DESC);

-- Hub changes wake the push loop: the worker LISTENs on "<schema>.ekmsync" and
-- signals the affected channel's ChannelPush workflow. The payload names the table
-- and, where one applies, the channel id.
CREATE FUNCTION ekmsync_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ch bigint;
BEGIN
    IF TG_TABLE_NAME = 'channels' THEN
        ch := COALESCE(NEW.id, OLD.id);
    ELSIF TG_TABLE_NAME = 'orders' THEN
        ch := COALESCE(NEW.channel_id, OLD.channel_id);
    ELSIF TG_TABLE_NAME IN ('shipments', 'order_lines') THEN
        SELECT o.channel_id INTO ch FROM orders o WHERE o.id = COALESCE(NEW.order_id, OLD.order_id);
    END IF;
    PERFORM pg_notify(TG_TABLE_SCHEMA || '.ekmsync',
        json_build_object('table', TG_TABLE_NAME, 'channel_id', ch)::text);
    RETURN NULL;
END $$;

CREATE TRIGGER channels_notify AFTER INSERT OR UPDATE ON channels
    FOR EACH ROW EXECUTE FUNCTION ekmsync_notify_change();
CREATE TRIGGER orders_notify AFTER UPDATE OF status, cancelled_by ON orders
    FOR EACH ROW EXECUTE FUNCTION ekmsync_notify_change();
CREATE TRIGGER shipments_notify AFTER INSERT OR UPDATE ON shipments
    FOR EACH ROW EXECUTE FUNCTION ekmsync_notify_change();
CREATE TRIGGER order_lines_notify AFTER UPDATE OF cancelled_quantity ON order_lines
    FOR EACH ROW EXECUTE FUNCTION ekmsync_notify_change();
-- Stock and prices are per SKU, not per channel: one notification per statement.
CREATE TRIGGER stock_levels_notify AFTER INSERT OR UPDATE OR DELETE ON stock_levels
    FOR EACH STATEMENT EXECUTE FUNCTION ekmsync_notify_change();
CREATE TRIGGER prices_notify AFTER INSERT OR UPDATE OR DELETE ON prices
    FOR EACH STATEMENT EXECUTE FUNCTION ekmsync_notify_change();
