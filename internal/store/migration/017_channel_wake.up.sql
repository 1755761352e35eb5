-- Hub changes wake only the channels they can affect (issue 14).
--
-- Until now a new order line, a stock level or a price of any SKU sent a payload
-- without a channel, and the worker woke the push loop of every channel: with 500
-- channels on one worker each webhook's order fanned out into 500 push runs. The
-- statement triggers below read their transition tables for the SKUs the statement
-- touched and name the channels with a live listing of such an SKU, or a listing
-- linked to it: {"table": ..., "channel_ids": [...]}. A statement that touches no
-- listed SKU notifies no one. A list too long for pg_notify's payload (under 8000
-- bytes) falls back to the payload without a channel, which wakes every channel.
--
-- PostgreSQL allows transition tables only on a trigger with one event and no
-- column list, hence one trigger per event, each checking the columns it cares for.

-- Notify the channels in ids, or every channel when they do not fit a payload.
CREATE FUNCTION ekmsync_notify_channels(tbl text, ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    payload text;
BEGIN
    IF cardinality(ids) IS NULL OR cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    payload := json_build_object('table', tbl, 'channel_ids', ids)::text;
    IF octet_length(payload) >= 8000 THEN
        payload := json_build_object('table', tbl)::text;
    END IF;
    PERFORM pg_notify(current_schema() || '.ekmsync', payload);
END $$;

-- Notify the channels whose listings take stock or price from one of skus: a live
-- listing of the SKU (listings_sku) or a link to it (listing_links_stock).
CREATE FUNCTION ekmsync_notify_skus(tbl text, skus text[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ekmsync_notify_channels(tbl, ARRAY(
        SELECT li.channel_id FROM listings li
            WHERE li.sku = ANY(skus) AND li.sku <> '' AND li.removed_at IS NULL
        UNION
        SELECT k.channel_id FROM listing_links k WHERE k.stock_sku = ANY(skus)
        ORDER BY 1));
END $$;

-- The SKUs a statement touched. Order lines reserve stock of COALESCE(stock_sku,
-- sku) while their order is open (a changed line may have moved from one stock item
-- to another, so both count); an order's status decides whether its lines reserve;
-- stock levels and prices are per SKU.
CREATE FUNCTION ekmsync_notify_changed_skus() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    skus text[];
BEGIN
    IF TG_TABLE_NAME = 'order_lines' AND TG_OP = 'INSERT' THEN
        skus := ARRAY(SELECT COALESCE(n.stock_sku, n.sku) FROM new_rows n);
    ELSIF TG_TABLE_NAME = 'order_lines' THEN
        skus := ARRAY(SELECT s FROM old_rows o JOIN new_rows n USING (order_id, ekm_item_id),
                LATERAL (VALUES (COALESCE(o.stock_sku, o.sku)), (COALESCE(n.stock_sku, n.sku))) v (s)
            WHERE (o.quantity, o.cancelled_quantity, o.sku, o.stock_sku)
                IS DISTINCT FROM (n.quantity, n.cancelled_quantity, n.sku, n.stock_sku));
    ELSIF TG_TABLE_NAME = 'orders' AND TG_OP = 'INSERT' THEN
        skus := ARRAY(SELECT COALESCE(l.stock_sku, l.sku) FROM new_rows n JOIN order_lines l ON l.order_id = n.id);
    ELSIF TG_TABLE_NAME = 'orders' THEN
        skus := ARRAY(SELECT COALESCE(l.stock_sku, l.sku)
            FROM old_rows o JOIN new_rows n USING (id) JOIN order_lines l ON l.order_id = n.id
            WHERE o.status IS DISTINCT FROM n.status);
    ELSIF TG_OP = 'INSERT' THEN
        skus := ARRAY(SELECT n.sku FROM new_rows n);
    ELSIF TG_OP = 'DELETE' THEN
        skus := ARRAY(SELECT o.sku FROM old_rows o);
    ELSE
        skus := ARRAY(SELECT o.sku FROM old_rows o UNION ALL SELECT n.sku FROM new_rows n);
    END IF;
    PERFORM ekmsync_notify_skus(TG_TABLE_NAME, ARRAY(SELECT DISTINCT unnest(skus)));
    RETURN NULL;
END $$;

-- A listing's overrides change what its own channel sends.
CREATE FUNCTION ekmsync_notify_listing_overrides() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ekmsync_notify_channels(TG_TABLE_NAME, ARRAY(
        SELECT DISTINCT n.channel_id FROM old_rows o JOIN new_rows n USING (channel_id, product_id, variant_id)
        WHERE (o.max_listed_override, o.stock_percentage_override, o.end_when_override)
            IS DISTINCT FROM (n.max_listed_override, n.stock_percentage_override, n.end_when_override)
        ORDER BY 1));
    RETURN NULL;
END $$;

DROP TRIGGER orders_reservation_notify ON orders;
CREATE TRIGGER orders_insert_notify AFTER INSERT ON orders
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ekmsync_notify_changed_skus();
CREATE TRIGGER orders_update_notify AFTER UPDATE ON orders
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ekmsync_notify_changed_skus();

DROP TRIGGER order_lines_reservation_notify ON order_lines;
CREATE TRIGGER order_lines_insert_notify AFTER INSERT ON order_lines
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ekmsync_notify_changed_skus();
CREATE TRIGGER order_lines_update_notify AFTER UPDATE ON order_lines
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ekmsync_notify_changed_skus();

DROP TRIGGER listings_overrides_notify ON listings;
CREATE TRIGGER listings_overrides_notify AFTER UPDATE ON listings
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ekmsync_notify_listing_overrides();

DROP TRIGGER stock_levels_notify ON stock_levels;
DROP TRIGGER prices_notify ON prices;
-- The functions run with their owner's rights, as migration 007's: an integrator's
-- role needs no right on listings, listing_links or order_lines for the lookups, and
-- the functions see only this schema.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['ekmsync_notify_channels(text, bigint[])', 'ekmsync_notify_skus(text, text[])',
                             'ekmsync_notify_changed_skus()', 'ekmsync_notify_listing_overrides()'] LOOP
        EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = %I, pg_temp', t, current_schema());
    END LOOP;
    FOREACH t IN ARRAY ARRAY['stock_levels', 'prices'] LOOP
        EXECUTE format('CREATE TRIGGER %1$s_insert_notify AFTER INSERT ON %1$I REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION ekmsync_notify_changed_skus()', t);
        EXECUTE format('CREATE TRIGGER %1$s_update_notify AFTER UPDATE ON %1$I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION ekmsync_notify_changed_skus()', t);
        EXECUTE format('CREATE TRIGGER %1$s_delete_notify AFTER DELETE ON %1$I REFERENCING OLD TABLE AS old_rows
            FOR EACH STATEMENT EXECUTE FUNCTION ekmsync_notify_changed_skus()', t);
    END LOOP;
END $$;
