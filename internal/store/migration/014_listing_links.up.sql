-- SKU links (issue 18, docs/channel-semantics.md §10): a listing linked to a hub
-- stock item whose SKU differs from the listing's, as Linnworks' Channel Linking.
--
-- listing_links: per listing (a product, variant_id 0, or a variant), the stock
-- item it sells. 'starter listings link' and 'unlink' write it, and so may an
-- integrator (docs/hub-tables.md). A linked listing's stock and price are those of
-- the linked item, whatever its own SKU (even empty or shared with another
-- listing); an unlinked one keeps the rule of equal SKUs. A removed listing keeps
-- its link (a later download may see it again); a purged one loses it.
CREATE TABLE listing_links (
    channel_id  bigint NOT NULL,
    product_id  bigint NOT NULL,
    variant_id  bigint NOT NULL,
    stock_sku   text   NOT NULL REFERENCES stock_items (sku) ON DELETE CASCADE ON UPDATE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel_id, product_id, variant_id),
    FOREIGN KEY (channel_id, product_id, variant_id) REFERENCES listings ON DELETE CASCADE
);
CREATE INDEX listing_links_stock ON listing_links (stock_sku);

-- An order line names its listing by SKU (EKM's product_code): finding a channel's
-- listings of an SKU must not scan them all.
CREATE INDEX listings_channel_sku ON listings (channel_id, sku);

-- order_lines.stock_sku: the stock item a listing link gives the line, set when the
-- line is downloaded and re-set when a link of its SKU changes. NULL: the line takes
-- from the stock item of its own SKU, the rule before links, read at query time so
-- that a stock item added later takes the lines already downloaded. A line's stock
-- item is therefore COALESCE(stock_sku, sku): what it reserves while its order is
-- open, and what 'orders problems' and 'listings unlinked' check.
ALTER TABLE order_lines ADD COLUMN stock_sku text REFERENCES stock_items (sku) ON DELETE SET NULL ON UPDATE CASCADE;
CREATE INDEX order_lines_stock ON order_lines ((COALESCE(stock_sku, sku)));

-- ekmsync_line_product: the EKM product id of an order line, from its raw item
-- (NULL when absent or not a plain id).
CREATE FUNCTION ekmsync_line_product(raw jsonb) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN raw->>'product_id' ~ '^[0-9]{1,18}$' THEN (raw->>'product_id')::bigint END
$$;

-- ekmsync_link_sku: the stock SKU that a link of channel ch gives order lines of
-- SKU line_sku and EKM product id product (NULL: no link). Lines carry the SKU, not
-- the variant: when several linked listings share the SKU, the one of the line's
-- product wins, then a live one, then the lowest ids. Lines without an SKU are never
-- linked (nothing tells their listing apart).
CREATE FUNCTION ekmsync_link_sku(ch bigint, line_sku text, product bigint) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT k.stock_sku FROM listings li
        JOIN listing_links k ON k.channel_id = li.channel_id AND k.product_id = li.product_id AND k.variant_id = li.variant_id
    WHERE li.channel_id = ch AND li.sku = line_sku AND line_sku <> ''
    ORDER BY li.product_id IS DISTINCT FROM product, li.removed_at IS NOT NULL, li.product_id, li.variant_id
    LIMIT 1
$$;

-- Re-processing: when a link is made, changed or removed, the lines of its
-- listing's SKU on that channel take their stock item again, so that open orders
-- reserve the right stock at once. Lines of open orders follow the link either way;
-- lines of shipped or cancelled orders are changed only when they take from no
-- stock item (they reserve nothing; their stock item is the record of what was
-- allocated). Idempotent: a line already right is not written.
CREATE FUNCTION ekmsync_relink_lines() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT DISTINCT li.channel_id, li.sku FROM listings li
        WHERE li.sku <> '' AND ((li.channel_id, li.product_id, li.variant_id) = (NEW.channel_id, NEW.product_id, NEW.variant_id)
            OR (li.channel_id, li.product_id, li.variant_id) = (OLD.channel_id, OLD.product_id, OLD.variant_id))
    LOOP
        WITH x AS (
            SELECT l.order_id, l.ekm_item_id, ekmsync_link_sku(r.channel_id, r.sku, ekmsync_line_product(l.raw)) AS link
            FROM order_lines l JOIN orders o ON o.id = l.order_id
            WHERE o.channel_id = r.channel_id AND l.sku = r.sku
                AND (o.status = 'open' OR NOT EXISTS (SELECT 1 FROM stock_items s WHERE s.sku = COALESCE(l.stock_sku, l.sku))))
        UPDATE order_lines l SET stock_sku = x.link,
            linked = EXISTS (SELECT 1 FROM stock_items s WHERE s.sku = COALESCE(x.link, l.sku))
        FROM x WHERE l.order_id = x.order_id AND l.ekm_item_id = x.ekm_item_id AND l.stock_sku IS DISTINCT FROM x.link;
    END LOOP;
    RETURN NULL;
END $$;

CREATE TRIGGER listing_links_relink AFTER INSERT OR UPDATE OR DELETE ON listing_links
    FOR EACH ROW EXECUTE FUNCTION ekmsync_relink_lines();

-- A link changes what the channel's push sends to the listing, and re-processed
-- lines change reservations on every channel: wake every push, as stock does.
CREATE TRIGGER listing_links_notify AFTER INSERT OR UPDATE OR DELETE ON listing_links
    FOR EACH STATEMENT EXECUTE FUNCTION ekmsync_notify_all();
DROP TRIGGER order_lines_reservation_notify ON order_lines;
CREATE TRIGGER order_lines_reservation_notify AFTER INSERT OR UPDATE OF quantity, cancelled_quantity, sku, stock_sku ON order_lines
    FOR EACH STATEMENT EXECUTE FUNCTION ekmsync_notify_all();

-- As migration 007's: an integrator who may write listing_links needs no right on
-- order_lines for the re-processing, and the functions see only this schema.
DO $$
DECLARE
    f text;
BEGIN
    EXECUTE format('ALTER FUNCTION ekmsync_relink_lines() SECURITY DEFINER SET search_path = %I, pg_temp', current_schema());
    FOREACH f IN ARRAY ARRAY['ekmsync_link_sku(bigint, text, bigint)', 'ekmsync_line_product(jsonb)'] LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_temp', f, current_schema());
    END LOOP;
END $$;
