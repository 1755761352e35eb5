package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ekmsync/ekmsync/internal/store"
)

// The hub's stock and prices: 'stock set' and 'price set' change them (as an
// integrator's SQL would), and every channel's push sends what changes.

func stockCommand() *command {
	return &command{name: "stock", summary: "set hub stock levels (the push sends the quantities to EKM)", subs: []*command{stockSetCommand()}}
}

func priceCommand() *command {
	return &command{name: "price", summary: "set hub prices (the push sends them to EKM where Price Change is on)", subs: []*command{priceSetCommand()}}
}

type stockSetResult struct{ store.StockLevelResult }

func (r stockSetResult) text(w io.Writer) {
	prev := "none"
	if r.Previous != nil {
		prev = strconv.Itoa(*r.Previous)
	}
	switch {
	case !r.Changed:
		fmt.Fprintf(w, "%s at %s is already %d: nothing changed\n", r.SKU, r.Location, r.Level)
	default:
		fmt.Fprintf(w, "%s at %s: %d (was %s)\n", r.SKU, r.Location, r.Level, prev)
	}
	if r.CreatedItem {
		fmt.Fprintf(w, "stock item %s was new to the hub and has been created\n", r.SKU)
	}
}

func stockSetCommand() *command {
	var location string
	return &command{
		name: "set", args: "<sku> <level>",
		summary: "set a SKU's stock level at a location (the same as an UPDATE of stock_levels); every channel whose\n" +
			"listings carry the SKU then sends its new quantity to EKM. A level may be negative:\n" +
			"'starter stock set SKU-1 -2'.",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&location, "location", store.DefaultLocation, "stock location")
		},
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			if err := needArgs(args, "<sku>", "<level>"); err != nil {
				return nil, err
			}
			// The column is a PostgreSQL integer: refuse what it cannot hold here.
			level, err := strconv.ParseInt(strings.TrimSpace(args[1]), 10, 32)
			if err != nil {
				return nil, usagef("level %q is not a whole number from -2147483648 to 2147483647", shortArg(args[1]))
			}
			if err := checkStockArgs(args[0], location); err != nil {
				return nil, err
			}
			st, err := e.store(ctx)
			if err != nil {
				return nil, err
			}
			res, err := st.SetStockLevel(ctx, args[0], location, int(level), actor())
			if err != nil {
				return nil, err
			}
			if res.Changed {
				e.wakeAllPushes(ctx, st)
			}
			return stockSetResult{res}, nil
		},
	}
}

type priceSetResult struct{ store.PriceResult }

func (r priceSetResult) text(w io.Writer) {
	prev := "none"
	if r.Previous != nil {
		prev = r.Previous.String()
	}
	if !r.Changed {
		fmt.Fprintf(w, "%s is already priced %s: nothing changed\n", r.SKU, r.Price)
	} else {
		fmt.Fprintf(w, "%s: %s (was %s)\n", r.SKU, r.Price, prev)
	}
	if r.CreatedItem {
		fmt.Fprintf(w, "stock item %s was new to the hub and has been created\n", r.SKU)
	}
}

func priceSetCommand() *command {
	return &command{
		name: "set", args: "<sku> <price>",
		summary: "set a SKU's hub price, e.g. 12.50 (the same as an UPDATE of prices); channels with Price Change on\n" +
			"send it to their listings of the SKU",
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			if err := needArgs(args, "<sku>", "<price>"); err != nil {
				return nil, err
			}
			price, err := store.ParsePennies(args[1])
			if err != nil {
				return nil, usagef("%v", err)
			}
			if err := checkStockArgs(args[0], store.DefaultLocation); err != nil {
				return nil, err
			}
			st, err := e.store(ctx)
			if err != nil {
				return nil, err
			}
			res, err := st.SetPrice(ctx, args[0], price, actor())
			if err != nil {
				return nil, err
			}
			if res.Changed {
				e.wakeAllPushes(ctx, st)
			}
			return priceSetResult{res}, nil
		},
	}
}

// wakeAllPushes wakes every channel's push loop: stock and prices are per SKU, not per
// channel. The worker's LISTEN/NOTIFY does the same; this is the fast path.
func (e *env) wakeAllPushes(ctx context.Context, st *store.Store) {
	channels, err := st.Channels(ctx)
	if err != nil {
		return
	}
	for _, c := range channels {
		if c.Enabled {
			e.wakePush(ctx, c.Name)
		}
	}
}
