package store_test

import (
	"context"
	"errors"
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

// The triggers notify "<schema>.ekmsync" on hub changes, which wakes the push loop.
func TestHubChangesNotify(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{db.Schema + ".ekmsync"}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	c := newChannel(t, db.Store, "shop")
	if _, err := db.Pool.Exec(ctx, `INSERT INTO stock_items (sku) VALUES ('A'); INSERT INTO stock_levels (sku, level) VALUES ('A', 3)`); err != nil {
		t.Fatal(err)
	}
	hubtest.InsertListing(t, db.Pool, hubtest.Listing{ChannelID: c.ID, ProductID: 1, SKU: "B"})
	if _, err := db.Pool.Exec(ctx, `INSERT INTO listing_links (channel_id, product_id, variant_id, stock_sku) VALUES ($1, 1, 0, 'A')`, c.ID); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	want := []string{`{"table" : "channels", "channel_id" : ` + strconv.FormatInt(c.ID, 10) + `}`, `{"table" : "stock_levels", "channel_id" : null}`,
		`{"table" : "listing_links"}`}
	all := func() bool { return seen[want[0]] && seen[want[1]] && seen[want[2]] }
	for !all() {
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		n, err := conn.Conn().WaitForNotification(wctx)
		cancel()
		if err != nil {
			break
		}
		seen[n.Payload] = true
	}
	if !all() {
		t.Fatalf("notifications = %v", seen)
	}
}
