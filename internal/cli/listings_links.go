package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/present"
	"github.com/ekmsync/ekmsync/internal/store"
)

// SKU links (docs/channel-semantics.md §10): 'listings link' and 'unlink' link a
// listing to a stock item whose SKU differs from its own, 'listings links' lists
// the links, and 'listings unlinked' reports what takes from no stock item.

// listingArg is how a command names a listing: "<product id>",
// "<product id>/<variant id>", or "sku:<listing SKU>".
const listingArg = "<listing>"

// listingHelp explains listingArg in a command's summary.
const listingHelp = "<listing> is the EKM product id, <product id>/<variant id> for a variant, or sku:<SKU> for the one live listing with that SKU."

// parseListing reads a listingArg: the listing's ids, or its SKU.
func parseListing(arg string) (store.ListingKey, string, error) {
	arg = strings.TrimSpace(arg)
	if sku, ok := strings.CutPrefix(arg, "sku:"); ok {
		if sku = strings.TrimSpace(sku); sku == "" {
			return store.ListingKey{}, "", usagef("listing %q names no SKU: write sku:<SKU>", shortArg(arg))
		}
		return store.ListingKey{}, sku, nil
	}
	product, variant, hasVariant := strings.Cut(arg, "/")
	var k store.ListingKey
	var err error
	k.ProductID, err = strconv.ParseInt(product, 10, 64)
	if err == nil && hasVariant {
		k.VariantID, err = strconv.ParseInt(variant, 10, 64)
	}
	if err != nil || k.ProductID <= 0 || k.VariantID < 0 || hasVariant && k.VariantID == 0 {
		return k, "", usagef("listing %q is not <product id>, <product id>/<variant id> or sku:<SKU> (e.g. 123, 123/45, sku:RED-M)", shortArg(arg))
	}
	return k, "", nil
}

// listingOf reads the channel and the listing that a command's first two
// arguments name.
func (e *env) listingOf(ctx context.Context, args []string) (*store.Store, channel.Settings, store.StoredListing, error) {
	key, sku, err := parseListing(args[1])
	if err != nil {
		return nil, channel.Settings{}, store.StoredListing{}, err
	}
	st, c, err := channelOf(ctx, e, args[0])
	if err != nil {
		return nil, c, store.StoredListing{}, err
	}
	l, err := st.ListingByRef(ctx, c.ID, c.Name, key, sku)
	return st, c, l, err
}

// linkResult is what 'listings link' or 'unlink' did.
type linkResult struct {
	store.LinkResult
	unlink bool
}

func (r linkResult) text(w io.Writer) {
	listing := fmt.Sprintf("listing %s (SKU %s) of %s", r.ListingKey.Ref(), present.OrDash(r.ListingSKU), r.Channel)
	switch {
	case r.unlink && !r.Changed:
		fmt.Fprintf(w, "%s has no link: nothing changed\n", listing)
	case r.unlink:
		fmt.Fprintf(w, "%s is no longer linked to stock item %s\n", listing, r.Previous)
	case !r.Changed:
		fmt.Fprintf(w, "%s is already linked to stock item %s: nothing changed\n", listing, r.StockSKU)
	case r.Previous != "":
		fmt.Fprintf(w, "%s is linked to stock item %s (was %s)\n", listing, r.StockSKU, r.Previous)
	default:
		fmt.Fprintf(w, "%s is linked to stock item %s\n", listing, r.StockSKU)
	}
	if r.LinesRelinked > 0 {
		fmt.Fprintf(w, "%s of SKU %s re-processed\n", count(r.LinesRelinked, "order line"), r.ListingSKU)
	}
	if r.StockSKU == "" {
		fmt.Fprintf(w, "it takes from no stock item now: the push sends it nothing ('starter listings link %s %s <stock-sku>' links it)\n",
			r.Channel, r.ListingKey.Ref())
		return
	}
	fmt.Fprintf(w, "the push sends it stock item %s's stock (and price, where Price Change is on); open orders of it reserve %d (%s)\n",
		r.StockSKU, r.Reserved, count(r.OpenLines, "line"))
}

// count writes n with noun, in the plural unless n is 1.
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func listingsLinkCommand() *command {
	return &command{
		name: "link", args: "<channel> <listing> <stock-sku>",
		summary: "link a listing to the hub stock item <stock-sku>, whatever the listing's own SKU (an UPSERT of listing_links):\n" +
			"the push sends that item's stock and price to it, and the order lines of its SKU take from it, those already\n" +
			"downloaded too (open orders then reserve it). Linking again re-processes the lines and changes nothing else.\n" +
			listingHelp,
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			if err := needArgs(args, "<channel>", listingArg, "<stock-sku>"); err != nil {
				return nil, err
			}
			return e.relink(ctx, args, false, func(st *store.Store, c channel.Settings, l store.StoredListing) (store.LinkResult, error) {
				return st.LinkListing(ctx, c.ID, c.Name, l, args[2], actor())
			})
		},
	}
}

func listingsUnlinkCommand() *command {
	return &command{
		name: "unlink", args: "<channel> <listing>",
		summary: "remove a listing's link: it takes from the stock item of its own SKU again (none: the push sends it nothing),\n" +
			"and so do the open order lines of its SKU. " + listingHelp,
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			if err := needArgs(args, "<channel>", listingArg); err != nil {
				return nil, err
			}
			return e.relink(ctx, args, true, func(st *store.Store, c channel.Settings, l store.StoredListing) (store.LinkResult, error) {
				return st.UnlinkListing(ctx, c.ID, c.Name, l, actor())
			})
		},
	}
}

// relink runs change (a link or an unlink) on the listing that args name, and
// wakes every push when it moved a listing or order lines to another stock item.
func (e *env) relink(ctx context.Context, args []string, unlink bool,
	change func(*store.Store, channel.Settings, store.StoredListing) (store.LinkResult, error)) (result, error) {
	st, c, l, err := e.listingOf(ctx, args)
	if err != nil {
		return nil, err
	}
	res, err := change(st, c, l)
	if err != nil {
		return nil, err
	}
	if res.Changed || res.LinesRelinked > 0 {
		e.wakeAllPushes(ctx, st)
	}
	return linkResult{LinkResult: res, unlink: unlink}, nil
}

// linksResult is a channel's links.
type linksResult struct {
	Channel string              `json:"channel"`
	Links   []store.ListingLink `json:"links"`
}

func (r linksResult) text(w io.Writer) {
	if len(r.Links) == 0 {
		fmt.Fprintf(w, "no listing of %s is linked: listings take from the stock item of their own SKU ('starter listings unlinked %s' lists those that cannot)\n",
			r.Channel, r.Channel)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LISTING\tLISTING SKU\tSTOCK SKU\tNAME\tLINKED AT")
	for _, l := range r.Links {
		name := listingTitle(l.Name, l.VariantName)
		if l.RemovedAt != nil {
			name += " [removed from the shop]"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", l.ListingKey.Ref(), present.OrDash(l.ListingSKU), l.StockSKU, name,
			l.UpdatedAt.UTC().Format(time.RFC3339))
	}
	_ = tw.Flush()
}

// listingTitle is a listing's name, with its variant's.
func listingTitle(name, variant string) string {
	if variant == "" {
		return name
	}
	return name + " (" + variant + ")"
}

func listingsLinksCommand() *command {
	return &command{
		name: "links", args: "<channel>",
		summary: "list the channel's SKU links: each linked listing, its own SKU and the stock item it takes from",
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			st, c, err := e.channelArg(ctx, args)
			if err != nil {
				return nil, err
			}
			links, err := st.ListingLinks(ctx, c.ID)
			return linksResult{Channel: c.Name, Links: orEmpty(links)}, err
		},
	}
}

// unlinkedResult is what takes from no stock item on a channel: live listings,
// and order lines.
type unlinkedResult struct {
	Channel          string                  `json:"channel"`
	UnlinkedListings int                     `json:"unlinked_listings"` // all of them; Listings holds at most --limit
	Listings         []store.UnlinkedListing `json:"listings"`
	Lines            []store.UnlinkedLine    `json:"lines"`
}

func (r unlinkedResult) text(w io.Writer) {
	if len(r.Listings) == 0 {
		fmt.Fprintf(w, "every live listing of %s takes from a stock item\n", r.Channel)
	} else {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "LISTING\tSKU\tREASON\tNAME")
		for _, l := range r.Listings {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", l.Ref(),
				present.OrDash(l.SKU), l.Reason, listingTitle(l.Name, l.VariantName))
		}
		_ = tw.Flush()
		more := ""
		if r.UnlinkedListings > len(r.Listings) {
			more = fmt.Sprintf(" (%d shown: raise --limit)", len(r.Listings))
		}
		fmt.Fprintf(w, "%s without a stock item%s: the push sends these nothing.\n"+
			"Link each with 'starter listings link %s <listing> <stock-sku>', or add a stock item of its SKU.\n\n",
			count(r.UnlinkedListings, "live listing"), more, r.Channel)
	}
	printUnlinkedLines(w, r.Channel, r.Lines)
}

// printUnlinkedLines writes the order lines that take from no stock item, and
// what links them ('listings unlinked', 'orders problems').
func printUnlinkedLines(w io.Writer, channel string, lines []store.UnlinkedLine) {
	if len(lines) == 0 {
		fmt.Fprintf(w, "every order line of %s takes from a stock item\n", channel)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EKM ORDER\tNUMBER\tITEM\tSKU\tQTY\tORDER STATUS\tNAME")
	for _, l := range lines {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%d\t%s\t%s\n", l.EKMOrderID, l.OrderNumber, l.EKMItemID, present.OrDash(l.SKU), l.Quantity, l.OrderStatus, l.Name)
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "%s without a stock item: these reserve nothing. Linking the listing of their SKU\n"+
		"('starter listings link %s sku:<SKU> <stock-sku>') or adding a stock item of their SKU re-processes them.\n",
		count(len(lines), "order line"), channel)
}

func listingsUnlinkedCommand() *command {
	var limit int
	return &command{
		name: "unlinked", args: "<channel>",
		summary: "report what takes from no hub stock item: live listings without a link whose SKU is empty, shared or no stock\n" +
			"item's (the push sends them nothing), and order lines that matched no stock item (they reserve nothing)",
		flags: func(fs *flag.FlagSet) {
			fs.IntVar(&limit, "limit", 200, "at most this many listings, and this many order lines (newest orders first)")
		},
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			if limit <= 0 {
				return nil, usagef("--limit %d: want a positive number", limit)
			}
			st, c, err := e.channelArg(ctx, args)
			if err != nil {
				return nil, err
			}
			res := unlinkedResult{Channel: c.Name}
			if res.Listings, res.UnlinkedListings, err = st.UnlinkedListings(ctx, c.ID, limit); err != nil {
				return nil, err
			}
			res.Lines, err = st.UnlinkedLines(ctx, c.ID, limit)
			res.Listings, res.Lines = orEmpty(res.Listings), orEmpty(res.Lines)
			return res, err
		},
	}
}
