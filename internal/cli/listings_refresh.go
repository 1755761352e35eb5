package cli

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/ekmsync/ekmsync/internal/present"
	"github.com/ekmsync/ekmsync/internal/refresh"
	"github.com/ekmsync/ekmsync/internal/store"
)

// refreshResult is what 'listings refresh' did.
type refreshResult struct {
	refresh.Result
}

func (r refreshResult) text(w io.Writer) {
	if r.From == nil {
		fmt.Fprintf(w, "listing refresh of %s: nothing read: %s\n", r.Channel, r.Skipped)
		return
	}
	fmt.Fprintf(w, "listing refresh of %s (products modified since %s): %d products read, %d listings updated",
		r.Channel, present.UTC(r.From), r.Products, r.Listings)
	if r.Restored > 0 {
		fmt.Fprintf(w, ", %d removed ones back", r.Restored)
	}
	fmt.Fprintln(w)
	if r.Problems > 0 {
		fmt.Fprintf(w, "%d products could not be stored: see 'starter listings problems %s'\n", r.Problems, r.Channel)
	}
	if r.Skipped != "" {
		fmt.Fprintf(w, "note: %s\n", r.Skipped)
	}
	if r.More {
		fmt.Fprintf(w, "note: it stopped after %d pages; the next refresh goes on from there\n", refresh.MaxPages)
	}
	fmt.Fprintln(w, "a refresh never removes a listing: the full download ('starter listings download') does")
}

func listingsRefreshCommand() *command {
	return &command{
		name: "refresh", args: "<channel>",
		summary: "read now the products EKM modified since the last listing download or refresh, and update their listings\n" +
			"(never removes one: the full download does); the worker runs it every listing-refresh-interval",
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			if err := needArgs(args, "<channel>"); err != nil {
				return nil, err
			}
			st, c, client, err := e.shopClient(ctx, args[0])
			if err != nil {
				return nil, err
			}
			r, err := refresh.Run(ctx, st, client, c)
			if err != nil {
				return refreshResult{r}, fmt.Errorf("listing refresh of %s failed: %w", c.Name, err)
			}
			return refreshResult{r}, nil
		},
	}
}

// refreshLine is the screens' line of the last listing refresh.
func refreshLine(name string, r store.ListingRefresh) string {
	switch {
	case r.LastRunAt == nil:
		return "none yet ('starter listings refresh " + name + "' runs one)"
	case r.LastError != "":
		return present.UTC(r.LastRunAt) + " failed: " + r.LastError
	}
	return fmt.Sprintf("%s: %d products read, %d listings updated", present.UTC(r.LastRunAt), r.LastProducts, r.LastListings)
}
