package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekmsim"
)

// config is what the command runs with.
type config struct {
	addr    string
	verbose bool
	version bool
	// shops, when above 0, serves a farm of that many shops (shop-001, ...)
	// instead of one: each with its own OAuth client, tokens, data and bucket.
	shops int
	opts  ekmsim.Options
}

// maxShops bounds -shops: each shop holds its catalogue in memory.
const maxShops = 999

// baseOptions are the options without -demo: the demo shop's data, but no
// order arrival, no auto-approval and no duplicate webhooks, so a plain run
// changes only when told to.
func baseOptions() ekmsim.Options {
	o := ekmsim.DemoOptions()
	o.OrderEvery, o.AutoApprove, o.WebhookDuplicateRate = 0, false, 0
	return o
}

// parseFlags reads the command line. -demo starts from ekmsim.DemoOptions;
// flags given explicitly override the preset either way.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	base := baseOptions()
	fs := flag.NewFlagSet("ekmsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: ekmsim [flags]\n\nRuns the EKM API simulator (EKM API, /connect OAuth2, /admin). Flags:")
		fs.PrintDefaults()
	}
	cfg := config{}
	demo := fs.Bool("demo", false, "start from the demo preset (orders keep arriving, consent auto-approved, 5% duplicate webhooks); explicit flags override it")
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8090", "listen address (\":0\" picks a free port)")
	fs.BoolVar(&cfg.verbose, "v", false, "log at debug level (every webhook attempt, server errors)")
	fs.BoolVar(&cfg.version, "version", false, "print the build's version and exit")
	fs.IntVar(&cfg.shops, "shops", 0, "serve a farm of N shops, shop-001 to shop-N, under /shops/<name> (each its own client <name>-client, secret <name>-secret, data and bucket; the per-shop flags apply to each, -seed plus the shop's number); 0: one shop at the root")

	var o ekmsim.Options
	fs.Int64Var(&o.Seed, "seed", base.Seed, "seed: equal seeds give equal data and faults")
	fs.IntVar(&o.Products, "products", base.Products, "number of products")
	fs.IntVar(&o.Orders, "orders", base.Orders, "number of seeded orders (last 60 days)")
	fs.Float64Var(&o.VariantShare, "variant-share", base.VariantShare, "share of products with 2-4 variants")
	fs.IntVar(&o.SKUProblems, "sku-problems", base.SKUProblems, "listings with an empty or duplicate SKU")
	fs.IntVar(&o.BucketSize, "bucket-size", 40, "rate-limit bucket size per (client, shop)")
	fs.Float64Var(&o.LeakPerSecond, "leak-rate", 2, "rate-limit leak, requests per second (above 10, Retry-After and the leak interval are given in fractions of a second)")
	fs.DurationVar(&o.AccessTokenTTL, "access-ttl", time.Hour, "access token lifetime")
	fs.DurationVar(&o.RefreshTokenTTL, "refresh-ttl", 15*24*time.Hour, "refresh token sliding lifetime")
	fs.Float64Var(&o.Faults.ServerError, "fault-5xx", 0, "probability of a 500/502/503")
	fs.Float64Var(&o.Faults.RateLimitBurst, "fault-429", 0, "probability that a burst of 3-10 429s starts")
	fs.Float64Var(&o.Faults.Latency, "fault-latency", 0, "probability of added latency (see -latency)")
	fs.DurationVar(&o.Faults.LatencyDuration, "latency", 2*time.Second, "latency added when -fault-latency fires")
	fs.Float64Var(&o.Faults.ConnReset, "fault-reset", 0, "probability of a connection reset without response")
	fs.Float64Var(&o.Faults.Malformed, "fault-malformed", 0, "probability of a 200 with malformed JSON")
	fs.Float64Var(&o.Faults.Truncated, "fault-truncated", 0, "probability of a 200 whose body is cut short")
	fs.DurationVar(&o.OrderEvery, "order-every", base.OrderEvery, "a new order arrives every interval (0: never)")
	fs.BoolVar(&o.AutoApprove, "auto-approve", base.AutoApprove, "approve OAuth consent without showing the consent page")
	fs.Float64Var(&o.WebhookDuplicateRate, "webhook-duplicates", base.WebhookDuplicateRate, "probability that a webhook is delivered twice")
	fs.StringVar(&o.ClientID, "client-id", "ekmsim-demo-client", "the demo OAuth client id")
	fs.StringVar(&o.ClientSecret, "client-secret", "ekmsim-demo-secret", "the demo OAuth client secret")
	fs.StringVar(&o.ShopUsername, "shop", "demo-shop", "the merchant username (JWT sub)")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if cfg.shops < 0 || cfg.shops > maxShops {
		return config{}, fmt.Errorf("-shops %d: give 0 (one shop) to %d", cfg.shops, maxShops)
	}
	if cfg.shops > 0 {
		explicit := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
		for _, name := range []string{"client-id", "client-secret", "shop"} {
			if explicit[name] {
				return config{}, fmt.Errorf("-%s names the one shop's client; with -shops each shop has its own (<name>-client, <name>-secret, username <name>)", name)
			}
		}
		o.ClientID, o.ClientSecret, o.ShopUsername = "", "", "" // the farm gives each shop its own
	}
	cfg.opts = o
	if *demo {
		cfg.opts = overrideSet(fs, ekmsim.DemoOptions(), o)
	}
	return cfg, nil
}

// overrideSet returns explicit, except that the fields the preset sets are
// taken from the preset unless their flag was given on the command line.
func overrideSet(fs *flag.FlagSet, preset, explicit ekmsim.Options) ekmsim.Options {
	out := explicit
	fromPreset := map[string]func(){
		"seed":               func() { out.Seed = preset.Seed },
		"products":           func() { out.Products = preset.Products },
		"orders":             func() { out.Orders = preset.Orders },
		"variant-share":      func() { out.VariantShare = preset.VariantShare },
		"sku-problems":       func() { out.SKUProblems = preset.SKUProblems },
		"order-every":        func() { out.OrderEvery = preset.OrderEvery },
		"auto-approve":       func() { out.AutoApprove = preset.AutoApprove },
		"webhook-duplicates": func() { out.WebhookDuplicateRate = preset.WebhookDuplicateRate },
	}
	fs.Visit(func(f *flag.Flag) { delete(fromPreset, f.Name) })
	for _, take := range fromPreset {
		take()
	}
	return out
}
