package store_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ekmsync/ekmsync/internal/store/hubtest"
	"github.com/ekmsync/ekmsync/internal/store/storetest"
)

// The role of docs/integrator-role.sql, created on the real PostgreSQL, can do what
// docs/hub-tables.md tells integrators to do, and cannot read or change channels,
// their credentials, or the push's own tables.
func TestIntegratorRoleCanWriteTheHubButNotChannelsOrCredentials(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	script, err := os.ReadFile("../../docs/integrator-role.sql")
	if err != nil {
		t.Fatal(err)
	}
	// Roles belong to the whole server: each test gets its own.
	role := "ekmsync_int_" + db.Schema[max(0, len(db.Schema)-20):]
	if _, err := db.Pool.Exec(ctx, strings.ReplaceAll(string(script), "ekmsync_integrator", role)); err != nil {
		t.Fatalf("run docs/integrator-role.sql: %v", err)
	}
	t.Cleanup(func() {
		_, _ = db.Pool.Exec(context.Background(), `DROP OWNED BY `+role)
		_, _ = db.Pool.Exec(context.Background(), `DROP ROLE `+role)
	})

	ch := hubtest.Channel(t, db.Pool, "shop", map[string]string{"Dispatched": "shipped", "Cancelled": "cancelled", "Paid": "paid"})
	if _, err := db.Pool.Exec(ctx, `INSERT INTO channel_credentials (channel_id, client_secret) VALUES ($1, 'sealed')`, ch); err != nil {
		t.Fatal(err)
	}
	ship := hubtest.InsertOrder(t, db.Pool, hubtest.Order{ChannelID: ch, EKMOrderID: 1, Lines: []hubtest.Line{{ItemID: 1, SKU: "SKU-1", Quantity: 2}}})
	cancel := hubtest.InsertOrder(t, db.Pool, hubtest.Order{ChannelID: ch, EKMOrderID: 2, Lines: []hubtest.Line{{ItemID: 1, SKU: "SKU-1", Quantity: 1}}})
	part := hubtest.InsertOrder(t, db.Pool, hubtest.Order{ChannelID: ch, EKMOrderID: 3, Lines: []hubtest.Line{{ItemID: 7, SKU: "SKU-1", Quantity: 3}}})
	hubtest.StockItem(t, db.Pool, "SKU-1", map[string]int{"default": 5})
	hubtest.InsertListing(t, db.Pool, hubtest.Listing{ChannelID: ch, ProductID: 10, SKU: "SKU-1"})

	// as runs sql as the role in a transaction, committed when it works.
	as := func(sql string) error {
		return pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SET LOCAL ROLE `+role); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, sql)
			return err
		})
	}
	allowed := []string{
		// Ship an order (docs/hub-tables.md, "Ship an order").
		`INSERT INTO shipments (order_id, parcel, tracking_number, carrier, tracking_url) VALUES ($1, 1, 'RM123456789GB', 'Royal Mail', 'https://t'), ($1, 2, '1Z999', 'UPS', '')`,
		`UPDATE orders SET status = 'shipped', shipped_at = now(), updated_at = now() WHERE id = $1`,
		// Cancel in full, and some lines.
		`UPDATE orders SET status = 'cancelled', cancelled_by = 'hub', cancelled_at = now(), updated_at = now() WHERE id = $2`,
		`UPDATE order_lines SET cancelled_quantity = 2 WHERE order_id = $3 AND ekm_item_id = 7`,
		// Stock items, levels and prices.
		`INSERT INTO stock_items (sku, title) VALUES ('SKU-2', 'Second') ON CONFLICT (sku) DO UPDATE SET title = EXCLUDED.title, updated_at = now()`,
		`INSERT INTO stock_levels (sku, location, level) VALUES ('SKU-1', 'default', 12) ON CONFLICT (sku, location) DO UPDATE SET level = EXCLUDED.level, updated_at = now()`,
		`INSERT INTO prices (sku, price) VALUES ('SKU-1', 12.50) ON CONFLICT (sku) DO UPDATE SET price = EXCLUDED.price, updated_at = now()`,
		`DELETE FROM stock_levels WHERE sku = 'SKU-2'`,
		// A listing's own rules.
		`UPDATE listings SET max_listed_override = 3, stock_percentage_override = 50, end_when_override = 1 WHERE sku = 'SKU-1'`,
		// Link the SKU's listing to another stock item, and read the links.
		`INSERT INTO listing_links (channel_id, product_id, variant_id, stock_sku)
			SELECT channel_id, product_id, variant_id, 'SKU-2' FROM listings WHERE sku = 'SKU-1'
			ON CONFLICT (channel_id, product_id, variant_id) DO UPDATE SET stock_sku = EXCLUDED.stock_sku, updated_at = now()`,
		`SELECT stock_sku FROM listing_links`,
		// Reading what the push did.
		`SELECT count(*) FROM order_outbound o JOIN orders x ON x.id = o.order_id WHERE x.id IN ($1, $2, $3)`,
		`SELECT confirmed_qty FROM listing_outbound LIMIT 1`,
	}
	for _, sql := range allowed {
		// $1, $2, $3 are the three orders' ids.
		sql = strings.NewReplacer("$1", itoa(ship), "$2", itoa(cancel), "$3", itoa(part)).Replace(sql)
		if err := as(sql); err != nil {
			t.Errorf("the integrator role cannot %q: %v", sql, err)
		}
	}
	// The triggers ran with their owner's rights: the push has its work queued.
	var kinds string
	if err := db.Pool.QueryRow(ctx, `SELECT string_agg(kind || ':' || order_id, ',' ORDER BY order_id) FROM order_outbound`).Scan(&kinds); err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{"despatch:" + itoa(ship), "cancellation:" + itoa(cancel), "cancellation:" + itoa(part)}, ",")
	if kinds != want {
		t.Errorf("order_outbound after the integrator's writes = %q, want %q", kinds, want)
	}

	// The link's trigger re-processed the open order's line with its owner's rights;
	// the shipped order's line had a stock item and keeps it.
	var relinked string
	if err := db.Pool.QueryRow(ctx, `SELECT string_agg(order_id || ':' || COALESCE(stock_sku, '-'), ',' ORDER BY order_id)
		FROM order_lines WHERE order_id IN ($1, $2)`, ship, part).Scan(&relinked); err != nil {
		t.Fatal(err)
	}
	if want := itoa(ship) + ":-," + itoa(part) + ":SKU-2"; relinked != want {
		t.Errorf("order lines after the integrator's link = %q, want %q", relinked, want)
	}

	refused := []string{
		`SELECT * FROM channels`,
		`SELECT api_base_url FROM channels`,
		`UPDATE channels SET api_base_url = 'http://127.0.0.1:9'`,
		`INSERT INTO channels (name, api_base_url, client_id, redirect_url, currency) VALUES ('x', 'h', 'c', 'r', 'GBP')`,
		`SELECT * FROM channel_credentials`,
		`SELECT client_secret FROM channel_credentials`,
		`UPDATE channel_credentials SET bound_to = NULL`,
		`DELETE FROM channel_credentials`,
		`SELECT * FROM channel_status_map`,
		`INSERT INTO order_outbound (order_id, kind) VALUES (1, 'despatch')`,
		`UPDATE listing_outbound SET confirmed_qty = 1`,
		`SELECT * FROM audit_log`,
		`UPDATE orders SET raw = '{}'`,
		`UPDATE orders SET channel_id = 0`,
		`DELETE FROM orders`,
		`UPDATE order_lines SET quantity = 100`,
		`UPDATE listings SET sku = 'other'`,
		`UPDATE order_lines SET stock_sku = 'SKU-2'`,
		`UPDATE listing_links SET channel_id = 0`,
	}
	for _, sql := range refused {
		err := as(sql)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
			t.Errorf("the integrator role ran %q: err = %v, want permission denied (42501)", sql, err)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
