package bench

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/ekm/ekmbench"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/harness"
	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/internal/store/storetest"
)

// SharedBudget drives three workers of one shop at once against the simulator's
// default bucket (40, leaking 2/s) for 60 seconds: in each, a listing download
// flat out, stock pushes and order fetches now and then. Each worker has its own
// PostgreSQL pool and its own budget, sharing the channel's bucket through the
// database as worker processes do (issue 14: goals 0 429s, at least 0.95 of the
// allowance, an order fetch behind at most 3 requests of other priorities).
var SharedBudget = Benchmark{
	Name: "shared-budget",
	Run: func(tb harness.TB) ([]Row, error) {
		const workers, duration = 3, 60 * time.Second
		db := storetest.New(tb)
		sim := ekmsim.New(ekmsim.Options{Seed: 1, Products: 10, Orders: 10})
		srv, err := sim.Start("127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer sim.Close()
		defer srv.Close()
		access, refresh := sim.IssueTokens()
		var configs []ekm.Config
		for i := range workers {
			st := db.Store
			if i > 0 {
				pool, err := store.Connect(context.Background(), db.URL)
				if err != nil {
					return nil, err
				}
				defer pool.Close()
				st = store.New(pool)
			}
			tokens := ekm.NewTokenSource(ekm.TokenSourceConfig{
				TokenURL: ekm.TokenURL(srv.URL()), ClientID: "ekmsim-demo-client", ClientSecret: "ekmsim-demo-secret",
				Store: ekm.NewMemoryTokenStore(ekm.Tokens{AccessToken: access, RefreshToken: refresh, Expiry: time.Now().Add(time.Hour)}),
			})
			configs = append(configs, ekm.Config{BaseURL: srv.URL(), HTTPClient: &http.Client{}, Tokens: tokens,
				Budget: ekm.NewSharedBudget(ekm.DefaultBucketSize, ekm.DefaultLeakPerSecond, st.RateBucket("shop"))})
		}
		res, err := ekmbench.MeasureMix(context.Background(), ekmbench.MixOptions{Configs: configs, Duration: duration})
		if err != nil {
			return nil, err
		}
		name := fmt.Sprintf("%d workers, one shop at 40 / 2 per s, %.0f s of mixed flat-out traffic", workers, duration.Seconds())
		mix := fmt.Sprintf("orders %d, stock %d, listings %d", res.ByClass["orders"], res.ByClass["stock"], res.ByClass["listings"])
		return []Row{
			{Benchmark: name + ": 429s", Measured: fmt.Sprint(res.TooMany), Goal: "0", Met: res.TooMany == 0},
			{Benchmark: "same: requests ÷ bucket allowance", Measured: fmt.Sprintf("%.3f", res.Efficiency), Goal: ">= 0.95", Met: res.Efficiency >= 0.95,
				Note: fmt.Sprintf("%d requests of %.0f allowed (%s)", res.Requests, res.Allowance, mix)},
			{Benchmark: "same: order fetches' wait behind other classes, max", Measured: fmt.Sprintf("%d requests", res.OrderWaitMax), Goal: "<= 3 requests",
				Met: res.OrderWaitMax <= 3, Note: fmt.Sprintf("over %d order fetches", res.OrderFetches)},
		}, nil
	},
}
