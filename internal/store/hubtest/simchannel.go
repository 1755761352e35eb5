package hubtest

import (
	"context"
	"encoding/base64"
	"net/http"
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/secret"
	"github.com/ekmsync/ekmsync/internal/shop"
	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/internal/store/storetest"
)

// SimChannel is an enabled channel "shop" of a simulated shop (opts, served on a
// loopback port until the test ends), authorised (its access token good for an
// hour of the simulator's clock), with the connector a worker would use: for
// tests of what calls EKM. edit changes the settings before the channel is made.
func SimChannel(t storetest.TB, db *storetest.DB, opts ekmsim.Options, edit ...func(*channel.Settings)) (*ekmsim.Sim, *shop.Connector, channel.Settings) {
	t.Helper()
	sim := ekmsim.New(opts)
	srv, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close(); sim.Close() })
	raw, _ := base64.StdEncoding.DecodeString(secret.Generate())
	key, _ := secret.NewKey(raw)
	ctx := context.Background()
	s := channel.Defaults()
	s.Name, s.APIBaseURL, s.ClientID, s.RedirectURL, s.Currency = "shop", srv.URL(), "ekmsim-demo-client", "http://127.0.0.1/cb", "GBP"
	s.Enabled = true
	for _, e := range edit {
		e(&s)
	}
	c, err := db.Store.CreateChannel(ctx, s, func(id int64) []byte { return store.SealClientSecret(key, id, "ekmsim-demo-secret") }, "test")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	access, refresh := sim.IssueTokens()
	if err := db.Store.SaveTokens(ctx, key, c.ID, ekm.Tokens{AccessToken: access, RefreshToken: refresh, Expiry: now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if c, err = db.Store.ChannelByID(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	return sim, &shop.Connector{Store: db.Store, Key: key, HTTP: &http.Client{}}, c
}
