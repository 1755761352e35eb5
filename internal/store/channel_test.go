package store_test

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/internal/store/hubtest"
	"github.com/ekmsync/ekmsync/internal/store/storetest"
)

func newChannel(t *testing.T, st *store.Store, name string) channel.Settings {
	t.Helper()
	s := channel.Defaults()
	s.Name, s.APIBaseURL, s.ClientID, s.RedirectURL, s.Currency = name, "https://api.ekm.net", "cid", "http://127.0.0.1:8765/callback", "GBP"
	s.ShopStatuses = []string{"Pending", "Processing", "Dispatched"}
	s.Mapping = channel.DefaultMapping(s.ShopStatuses)
	out, err := st.CreateChannel(context.Background(), s, func(int64) []byte { return []byte("sealed") }, "test")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCreateAndReadChannel(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	c := newChannel(t, db.Store, "shop")
	if c.ID == 0 || c.Currency != "GBP" || c.Mapping.Target("DISPATCHED") != channel.Shipped || c.OrderSyncInterval != 5*time.Minute || c.StockPercentage != 100 {
		t.Fatalf("created: %+v", c)
	}
	if _, err := db.Store.CreateChannel(ctx, c, func(int64) []byte { return []byte("x") }, "test"); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("duplicate name: %v", err)
	}
	if _, err := db.Store.Channel(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing channel: %v", err)
	}
	list, err := db.Store.Channels(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("Channels = %v, %v", list, err)
	}
}

func TestUpdateChannelAuditsEachChangeAndRejectsAtomically(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	newChannel(t, db.Store, "shop")
	edit := func(changes ...channel.Change) func(channel.Settings) (channel.Settings, []channel.AppliedChange, error) {
		return func(s channel.Settings) (channel.Settings, []channel.AppliedChange, error) {
			return channel.Apply(s, changes)
		}
	}
	got, applied, err := db.Store.UpdateChannel(ctx, "shop", "tester", edit(channel.Change{Key: "max-listed", Value: "7"}, channel.Change{Key: "status:Pending", Value: "paid"}))
	if err != nil || len(applied) != 2 || got.MaxListed != 7 || got.Mapping.Target("PENDING") != channel.Paid {
		t.Fatalf("update: %+v %v %v", got.MaxListed, applied, err)
	}
	if _, _, err := db.Store.UpdateChannel(ctx, "shop", "tester", edit(channel.Change{Key: "max-listed", Value: "9"}, channel.Change{Key: "currency", Value: "??"})); err == nil {
		t.Fatal("invalid batch accepted")
	}
	after, _ := db.Store.Channel(ctx, "shop")
	if after.MaxListed != 7 {
		t.Fatalf("rejected batch changed max-listed to %d", after.MaxListed)
	}
	log, err := db.Store.AuditLog(ctx, "shop", "setting.", 10)
	if err != nil || len(log) != 2 {
		t.Fatalf("audit = %+v, %v", log, err)
	}
	if log[1].Subject != "max-listed" || log[1].OldValue != "0" || log[1].NewValue != "7" || log[1].Actor != "tester" {
		t.Fatalf("audit entry = %+v", log[1])
	}
}

func TestRemoveKeepsDataUnlessPurged(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	c := newChannel(t, db.Store, "shop")
	if err := db.Store.RemoveChannel(ctx, "shop", false, "t"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Store.Channel(ctx, "shop"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("removed channel still listed: %v", err)
	}
	if _, err := db.Store.ChannelByID(ctx, c.ID); err != nil {
		t.Fatalf("removed channel's row is gone: %v", err)
	}
	if err := db.Store.RemoveChannel(ctx, "shop", true, "t"); err != nil {
		t.Fatal(err)
	}
	var n int
	_ = db.Pool.QueryRow(ctx, `SELECT count(*) FROM channel_credentials`).Scan(&n)
	if n != 0 {
		t.Fatal("purge kept the credentials")
	}
}

// The triggers notify "<schema>.ekmsync" on hub changes, which wakes the push loop
// of the channels named: a stock level, price or order line of an SKU wakes only the
// channels listing it (or linking to it), and an SKU on no channel wakes no one.
func TestHubChangesNotify(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	topic := db.Schema + ".ekmsync"
	if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{topic}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	// drain returns the payloads up to a sentinel sent now: notifications arrive in
	// commit order, so what is absent before it was never sent.
	drain := func() []string {
		t.Helper()
		if _, err := db.Pool.Exec(ctx, `SELECT pg_notify($1, 'end')`, topic); err != nil {
			t.Fatal(err)
		}
		var got []string
		for {
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			n, err := conn.Conn().WaitForNotification(wctx)
			cancel()
			if err != nil {
				t.Fatalf("no sentinel after %v: %v", got, err)
			}
			if n.Payload == "end" {
				sort.Strings(got)
				return got
			}
			got = append(got, n.Payload)
		}
	}
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := db.Pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	a := newChannel(t, db.Store, "shop")
	b := newChannel(t, db.Store, "other")
	ids := func(c channel.Settings) string { return "[" + strconv.FormatInt(c.ID, 10) + "]" }
	exec(`INSERT INTO stock_items (sku) VALUES ('A'), ('B'), ('L'), ('NONE')`)
	hubtest.InsertListing(t, db.Pool, hubtest.Listing{ChannelID: a.ID, ProductID: 1, SKU: "A"})
	hubtest.InsertListing(t, db.Pool, hubtest.Listing{ChannelID: b.ID, ProductID: 1, SKU: "B"})
	hubtest.InsertListing(t, db.Pool, hubtest.Listing{ChannelID: b.ID, ProductID: 2, SKU: "X"})
	exec(`INSERT INTO listing_links (channel_id, product_id, variant_id, stock_sku) VALUES ($1, 2, 0, 'L')`, b.ID)
	setup := drain()
	for _, w := range []string{`{"table" : "channels", "channel_id" : ` + strconv.FormatInt(a.ID, 10) + `}`, `{"table" : "listing_links"}`} {
		if !slices.Contains(setup, w) {
			t.Fatalf("setup notifications = %v, want %s among them", setup, w)
		}
	}

	steps := []struct {
		name string
		do   func()
		want []string
	}{
		{"stock of an SKU listed on A", func() { exec(`INSERT INTO stock_levels (sku, level) VALUES ('A', 3)`) },
			[]string{`{"table" : "stock_levels", "channel_ids" : ` + ids(a) + `}`}},
		{"stock change of an SKU linked on B", func() {
			exec(`INSERT INTO stock_levels (sku, level) VALUES ('L', 3)`)
			exec(`UPDATE stock_levels SET level = 2 WHERE sku = 'L'`)
		}, []string{`{"table" : "stock_levels", "channel_ids" : ` + ids(b) + `}`, `{"table" : "stock_levels", "channel_ids" : ` + ids(b) + `}`}},
		{"stock and price of an SKU on no channel", func() {
			exec(`INSERT INTO stock_levels (sku, level) VALUES ('NONE', 3)`)
			exec(`INSERT INTO prices (sku, price) VALUES ('NONE', 1)`)
			exec(`DELETE FROM stock_levels WHERE sku = 'NONE'`)
		}, nil},
		{"price of an SKU listed on A", func() { exec(`INSERT INTO prices (sku, price) VALUES ('A', 1)`) },
			[]string{`{"table" : "prices", "channel_ids" : ` + ids(a) + `}`}},
		{"order on B with lines of A's SKU and of no channel's", func() {
			hubtest.InsertOrder(t, db.Pool, hubtest.Order{ChannelID: b.ID, EKMOrderID: 1, Lines: []hubtest.Line{{SKU: "A", Quantity: 1}, {SKU: "NONE", Quantity: 1}}})
		}, []string{`{"table" : "order_lines", "channel_ids" : ` + ids(a) + `}`, `{"table" : "orders", "channel_id" : ` + strconv.FormatInt(b.ID, 10) + `}`}},
		{"a line of A's SKU part-cancelled", func() { exec(`UPDATE order_lines SET cancelled_quantity = 1 WHERE sku = 'A'`) },
			[]string{`{"table" : "order_lines", "channel_id" : ` + strconv.FormatInt(b.ID, 10) + `}`, `{"table" : "order_lines", "channel_ids" : ` + ids(a) + `}`}},
		{"that order cancelled", func() { exec(`UPDATE orders SET status = 'cancelled' WHERE ekm_order_id = 1`) },
			[]string{`{"table" : "orders", "channel_id" : ` + strconv.FormatInt(b.ID, 10) + `}`, `{"table" : "orders", "channel_ids" : ` + ids(a) + `}`}},
		{"order on A with a line of an SKU on no channel: only the order's own channel", func() {
			hubtest.InsertOrder(t, db.Pool, hubtest.Order{ChannelID: a.ID, EKMOrderID: 2, Lines: []hubtest.Line{{SKU: "NONE", Quantity: 1}}})
		}, []string{`{"table" : "orders", "channel_id" : ` + strconv.FormatInt(a.ID, 10) + `}`}},
		{"a line's quantity unchanged", func() { exec(`UPDATE order_lines SET name = 'renamed'`) }, nil},
		{"override of a listing on B", func() { exec(`UPDATE listings SET max_listed_override = 5 WHERE sku = 'B'`) },
			[]string{`{"table" : "listings", "channel_ids" : ` + ids(b) + `}`}},
		{"a list too long for a payload wakes every channel", func() {
			exec(`SELECT ekmsync_notify_channels('prices', ARRAY(SELECT generate_series(1, 3000)::bigint))`)
		}, []string{`{"table" : "prices"}`}},
	}
	for _, s := range steps {
		s.do()
		if got := drain(); !slices.Equal(got, s.want) {
			t.Errorf("%s: notifications = %v, want %v", s.name, got, s.want)
		}
	}
}
