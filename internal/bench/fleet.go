package bench

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/harness"
	"github.com/ekmsync/ekmsync/internal/shop"
	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/internal/webhook"
)

// fleet is many shops on one simulator farm, each a channel of one environment
// (its worker, PostgreSQL schema and task queue) with every loop running.
type fleet struct {
	h     *harness.Env
	farm  *ekmsim.Farm
	names []string
}

// fleetOptions shape a fleet's shops.
type fleetOptions struct {
	shops, products int
	bucket          int
	leak            float64
	settings        []channel.Change // on top of enabled=on and the shop's status mapping
	// workers is how many worker processes the environment has (default 1), of
	// which the first alone starts with it: the others start on
	// TryStartWorkerProcess. With more than one, the shops' webhooks reach the
	// workers through the harness's front.
	workers int
}

// newFleet builds the environment (its worker a process), a farm of o.shops
// shops and a channel for each, added the way 'channel add' adds one but
// directly through the store and 16 at a time, so that 500 take seconds, not
// the minutes of 500 OAuth consents: the farm issues each shop's tokens. Each
// channel is subscribed to its shop's order webhooks at the worker, enabled,
// and gets its order sync, push loop and listing Schedule; startDownloads
// starts the listing downloads.
func newFleet(tb harness.TB, o fleetOptions) (*fleet, error) {
	h := harness.New(tb, harness.Options{NoChannel: true, WorkerProcess: true, Workers: o.workers, StartedWorkers: 1, Sim: ekmsim.Options{Products: 1}})
	f := &fleet{h: h, farm: ekmsim.NewFarm()}
	tb.Cleanup(f.farm.Close)
	for i := 1; i <= o.shops; i++ {
		name := fmt.Sprintf("shop-%03d", i)
		if _, err := f.farm.Add(name, ekmsim.Options{Seed: int64(i), Products: o.products, VariantShare: 0.2,
			BucketSize: o.bucket, LeakPerSecond: o.leak}); err != nil {
			return nil, err
		}
		f.names = append(f.names, name)
	}
	url, err := f.farm.Start("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	conn := &shop.Connector{Store: h.Store(), Key: h.Key, HTTP: &http.Client{Timeout: 30 * time.Second}}
	ctx := context.Background()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for _, name := range f.names {
		g.Go(func() error { return f.add(gctx, conn, ekmsim.BaseURL(url, name), name, o.settings) })
	}
	return f, g.Wait()
}

// add adds, authorises, maps, subscribes and enables one shop's channel, and
// starts its loops.
func (f *fleet) add(ctx context.Context, conn *shop.Connector, base, name string, settings []channel.Change) error {
	st := f.h.Store()
	s := channel.Defaults()
	s.Name, s.APIBaseURL, s.ClientID, s.RedirectURL, s.Currency = name, base, name+"-client", "http://127.0.0.1/callback", "GBP"
	s.Enabled = true // the gate refuses a disabled channel's requests, the status list's too
	created, err := st.CreateChannel(ctx, s, func(id int64) []byte { return store.SealClientSecret(conn.Key, id, name+"-secret") }, "bench")
	if err != nil {
		return err
	}
	if err := st.BindCredentials(ctx, conn.Key, created.ID, base, false, "bench"); err != nil {
		return err
	}
	access, refresh := f.farm.Shop(name).IssueTokens()
	if err := st.SaveTokens(ctx, conn.Key, created.ID, ekm.Tokens{AccessToken: access, RefreshToken: refresh, Expiry: time.Now().Add(time.Hour)}); err != nil {
		return err
	}
	if err := st.SetShopUsername(ctx, created.ID, name); err != nil {
		return err
	}
	created, err = st.Channel(ctx, name)
	if err != nil {
		return err
	}
	c, err := conn.Client(ctx, created)
	if err != nil {
		return err
	}
	list, err := c.OrderStatuses(ctx)
	if err != nil {
		return fmt.Errorf("%s: order statuses: %w", name, err)
	}
	var statuses []string
	for _, l := range list {
		statuses = append(statuses, l.Name)
	}
	changes := slices.Clone(settings)
	for status, target := range channel.DefaultMapping(statuses) {
		changes = append(changes, channel.Change{Key: channel.StatusKeyPrefix + status, Value: string(target)})
	}
	final, _, err := st.UpdateChannel(ctx, name, "bench", func(cur channel.Settings) (channel.Settings, []channel.AppliedChange, error) {
		cur.ShopStatuses = statuses
		return channel.Apply(cur, changes)
	})
	if err != nil {
		return err
	}
	token, hash := webhook.NewToken()
	hook, err := webhook.Subscribe(ctx, c, f.h.Config.WebhookBaseURL, name, token)
	if err != nil {
		return fmt.Errorf("%s: subscribe: %w", name, err)
	}
	if err := st.SetWebhookToken(ctx, final.ID, hash, hook); err != nil {
		return err
	}
	wf := f.h.Workflows
	if _, err := wf.StartOrderSync(ctx, name); err != nil {
		return err
	}
	if _, err := wf.StartChannelPush(ctx, name); err != nil {
		return err
	}
	return wf.EnsureListingSchedule(ctx, name, final.ListingInterval)
}

// startDownloads starts every channel's listing download, 16 at a time.
func (f *fleet) startDownloads(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for _, name := range f.names {
		g.Go(func() error {
			_, err := f.h.Workflows.StartListingDownload(gctx, name)
			return err
		})
	}
	return g.Wait()
}

// downloadsInProgress counts the channels whose listing download the hub says
// is in progress.
func (f *fleet) downloadsInProgress(ctx context.Context) (int, error) {
	var n int
	err := f.h.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM listing_downloads WHERE in_progress`).Scan(&n)
	return n, err
}
