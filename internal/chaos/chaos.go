// Package chaos runs the whole system under faults and checks that hub and shop
// agree at the end: 'make chaos' runs Full, 'make test' runs Reduced. The
// simulator injects server errors, bursts of 429, slow and malformed answers; two
// worker processes serve the task queue and share the shop's rate budget, and one
// at a time is killed with SIGKILL at random moments while the other works on; the
// run's own PostgreSQL server is restarted once. Meanwhile a listing download runs,
// orders arrive on the shop, and the hub ships orders and changes stock and prices.
// When the traffic stops the run waits for the system to settle, then compares every
// listing, order, despatch, stock level and price, requires that the shop's bucket
// itself never answered 429 (the workers overdrew it: the injected 429s aside), and
// reports what it did and found.
package chaos

import (
	"fmt"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekmsim"
)

// Config sizes a run.
type Config struct {
	// Seed makes the shop, the faults and the run's choices repeat (the moments of
	// the kills depend on timing too).
	Seed int64
	// Products is the shop's catalogue; VariantShare of them have variants, and
	// SKUProblems listings an empty or duplicated SKU.
	Products     int
	VariantShare float64
	SKUProblems  int
	// Orders arrive on the shop, paid, spread over Window.
	Orders int
	// Despatches orders are shipped in the hub as they are downloaded.
	Despatches int
	// StockChanges and PriceChanges are made in the hub, spread over Window, to
	// StockSKUs and PriceSKUs distinct SKUs (so most SKUs change several times).
	StockChanges, StockSKUs int
	PriceChanges, PriceSKUs int
	// Workers is how many worker processes serve the task queue. Kills is how
	// many times one of them, drawn at random, is killed with SIGKILL at a random
	// moment of Window and started again after a pause, one at a time;
	// RestartPostgres restarts the database server once.
	Workers         int
	Kills           int
	RestartPostgres bool
	// Window is how long the traffic lasts; Settle bounds the wait, after it, for
	// hub and shop to agree.
	Window, Settle time.Duration
	// Faults are the simulator's faults, on for the whole run.
	Faults ekmsim.Faults
	// Hostile adds an attacker's and a misbehaving shop's input (zero: none).
	Hostile Hostile
	// BucketSize and LeakPerSecond are the shop's rate limit.
	BucketSize    int
	LeakPerSecond float64
	// WorkerLogFile, if set, receives the workers' log (every run of each, each
	// line naming its process) at the end, for reading what happened.
	WorkerLogFile string `json:"-"`
	// HistoryDir, if set, receives the longest history of each workflow type of
	// the run, for the replay tests of workflows/.
	HistoryDir string `json:"-"`
}

// Stock rules of settings, as the check applies them.
const (
	stockPercentage = 90
	maxListed       = 40
)

// settings are the channel's settings in a run: every outbound kind on, stock
// rules that the check recomputes independently, and short sweeps.
var settings = []string{"price-change=on", fmt.Sprintf("stock-percentage=%d", stockPercentage),
	fmt.Sprintf("max-listed=%d", maxListed), "push-sweep-interval=5s", "order-sync-interval=1m"}

// faults are the issue's: 5% server errors, 2% bursts of 429, 1% slow answers
// and 0.5% malformed bodies.
var faults = ekmsim.Faults{ServerError: 0.05, RateLimitBurst: 0.02, Latency: 0.01, LatencyDuration: 2 * time.Second,
	Malformed: 0.005}

// Full is 'make chaos': 10,000 products, 5,000 orders, 500 despatches, 2,000 stock
// and 300 price changes, two workers, 6 worker kills and a PostgreSQL restart.
func Full() Config {
	return Config{Seed: 1, Products: 10000, VariantShare: 0.2, SKUProblems: 20, Orders: 5000, Despatches: 500,
		StockChanges: 2000, StockSKUs: 800, PriceChanges: 300, PriceSKUs: 200, Workers: 2, Kills: 6, RestartPostgres: true,
		Window: 3 * time.Minute, Settle: 6 * time.Minute, Faults: faults, BucketSize: 200, LeakPerSecond: 200}
}

// hostile is the hostile mode at a run's scale: forged and duplicate webhooks
// in proportion to its orders, 1% poison orders, a few oversized products and
// one stale page.
func hostile(orders, oversized int) Hostile {
	return Hostile{ForgedWebhooks: 2 * orders, DuplicateHints: 2 * orders, PoisonShare: 0.01,
		OversizedProducts: oversized, StalePages: 1}
}

// FullHostile is 'make chaos-hostile': the full run with the hostile mode on
// top of its faults.
func FullHostile() Config {
	c := Full()
	c.Hostile = hostile(c.Orders, 3)
	return c
}

// ReducedHostile is the reduced run with the hostile mode, as 'make test' runs it.
func ReducedHostile() Config {
	c := Reduced()
	c.Hostile = hostile(c.Orders, 2)
	return c
}

// Reduced is the run of 'make test': the same faults, workers, kills and restart
// on a tenth of the traffic.
func Reduced() Config {
	return Config{Seed: 2, Products: 1000, VariantShare: 0.2, SKUProblems: 6, Orders: 400, Despatches: 50,
		StockChanges: 200, StockSKUs: 80, PriceChanges: 30, PriceSKUs: 20, Workers: 2, Kills: 3, RestartPostgres: true,
		Window: 40 * time.Second, Settle: 3 * time.Minute, Faults: faults, BucketSize: 200, LeakPerSecond: 200}
}
