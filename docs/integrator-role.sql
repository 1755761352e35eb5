-- ekmsync_integrator: the least-privilege PostgreSQL role for systems that change the
-- hub (docs/hub-tables.md). It may read orders, listings and what the push recorded,
-- and write exactly the tables and columns the hub-tables doc lists; it cannot read
-- or change channels, their settings or their sealed credentials, nor the push's own
-- tables. The triggers that queue outbound work run with their owner's rights
-- (migration 007), so none is needed on order_outbound.
--
-- Run it as the owner of ekmsync's tables (the user the worker migrates with), with
-- search_path set to ekmsync's schema, after 'starter migrate':
--
--   psql "$EKMSYNC_DATABASE_URL" -f docs/integrator-role.sql
--   psql "$EKMSYNC_DATABASE_URL" -c "CREATE ROLE erp LOGIN PASSWORD '...' IN ROLE ekmsync_integrator"
--
-- It can be run again: it creates the role if missing and re-grants.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ekmsync_integrator') THEN
        CREATE ROLE ekmsync_integrator NOLOGIN;
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO ekmsync_integrator', current_schema());
END $$;

-- Read: what an integrator looks up to ship, cancel, or price.
GRANT SELECT ON orders, order_lines, shipments, stock_items, stock_levels, prices, listings,
                order_outbound, listing_outbound TO ekmsync_integrator;

-- Ship an order; cancel it in full.
GRANT UPDATE (status, shipped_at, cancelled_by, cancelled_at, updated_at) ON orders TO ekmsync_integrator;
GRANT INSERT, UPDATE (tracking_number, carrier, tracking_url), DELETE ON shipments TO ekmsync_integrator;

-- Cancel some lines.
GRANT UPDATE (cancelled_quantity) ON order_lines TO ekmsync_integrator;

-- Stock items, stock levels and prices.
GRANT INSERT, UPDATE (title, tax_rate, updated_at) ON stock_items TO ekmsync_integrator;
GRANT INSERT, UPDATE (level, updated_at), DELETE ON stock_levels TO ekmsync_integrator;
GRANT INSERT, UPDATE (price, updated_at), DELETE ON prices TO ekmsync_integrator;

-- A listing's own stock rules.
GRANT UPDATE (max_listed_override, stock_percentage_override, end_when_override) ON listings TO ekmsync_integrator;

-- SKU links: a listing linked to a stock item whose SKU differs. The trigger that
-- re-processes the order lines of its SKU runs with its owner's rights.
GRANT SELECT, INSERT, UPDATE (stock_sku, updated_at), DELETE ON listing_links TO ekmsync_integrator;
