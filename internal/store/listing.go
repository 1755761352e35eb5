package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Listing is one sellable SKU of a shop as a download saw it: a product without
// variants (VariantID 0), or one variant of a product. It links to the hub's stock
// item with the same SKU.
type Listing struct {
	ProductID   int64   `json:"product_id"`
	VariantID   int64   `json:"variant_id"`
	SKU         string  `json:"sku"`
	Name        string  `json:"name"`
	VariantName string  `json:"variant_name,omitempty"`
	Live        bool    `json:"live"`
	Price       float64 `json:"ekm_price"`
	Stock       int64   `json:"ekm_stock"`
}

// ListingPage is one page of the product list, turned into listings, with the
// progress it brings.
type ListingPage struct {
	// Number is the page's 1-based number; pages are committed in order.
	Number int
	// PagesTotal and ProductsTotal are what the page's meta reported.
	PagesTotal    int
	ProductsTotal int
	// Last says no page follows: the download's pages are then all done.
	Last     bool
	Listings []Listing
	// BadProducts counts the page's products that could not be read.
	BadProducts int
	// Problems are the page's products that could not be stored, with the
	// reason; the store adds those whose figures do not fit its columns (and
	// counts them in BadProducts).
	Problems []ProductProblem
	// FetchedAt is when the page was requested. What it shows of stock and price
	// becomes the confirmed value of the outbound ledger unless a push sent one
	// since: an older observation must not undo a newer confirmation.
	FetchedAt time.Time
	// EstimatedCompletion is the download's estimate once this page is committed.
	EstimatedCompletion *time.Time
}

// WriteListingPages commits consecutive pages of generation gen in one
// transaction: the listings upserted as seen by gen (and no longer removed), the
// outbound ledger seeded with what EKM showed, and the progress counters. Pages
// already committed are not written twice, so a retried activity may offer them
// again. A writer that falls behind its fetcher commits the pages waiting for it
// together, which spreads one commit's cost over them. Strings are made
// storable and a listing whose price does not fit is a product problem; if the
// write still fails with a data error (a constraint the hub added, say), each
// listing is tried alone and those refused become product problems with
// PostgreSQL's message, and the rest is written.
func (s *Store) WriteListingPages(ctx context.Context, channelID, gen int64, pages ...ListingPage) (ListingDownloadState, error) {
	out, err := s.writeListingPages(ctx, channelID, gen, pages)
	if dataError(err) != nil {
		if pages, err = s.refusedListings(ctx, channelID, gen, pages); err == nil {
			out, err = s.writeListingPages(ctx, channelID, gen, pages)
		}
	}
	return out, err
}

// refusedListings tries each listing of pages alone, in a transaction it rolls
// back, and returns the pages without those PostgreSQL refuses for their data,
// each as a product problem counted as a bad product.
func (s *Store) refusedListings(ctx context.Context, channelID, gen int64, pages []ListingPage) ([]ListingPage, error) {
	out := make([]ListingPage, len(pages))
	tx, err := s.Pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	for i, p := range pages {
		kept := make([]Listing, 0, len(p.Listings))
		for _, l := range p.Listings {
			probe, unfit := storableListings([]Listing{l})
			if len(unfit) > 0 {
				kept = append(kept, l) // the write reports it
				continue
			}
			sp, err := tx.Begin(ctx)
			if err != nil {
				return nil, err
			}
			_, err = upsertListings(ctx, sp, channelID, gen, probe, p.FetchedAt, false)
			if pg := dataError(err); pg != nil {
				id := l.ProductID
				p.Problems = append(p.Problems, ProductProblem{Key: ProductKey(id), ProductID: &id,
					Reason: fmt.Sprintf("product %d, variant %d: %s", id, l.VariantID, dataReason(pg))})
				p.BadProducts++
			} else if err != nil {
				return nil, err
			} else {
				kept = append(kept, l)
			}
			if err := sp.Rollback(ctx); err != nil {
				return nil, err
			}
		}
		p.Listings = kept
		out[i] = p
	}
	return out, nil
}

func (s *Store) writeListingPages(ctx context.Context, channelID, gen int64, pages []ListingPage) (ListingDownloadState, error) {
	var out ListingDownloadState
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		st, err := lockListingGeneration(ctx, tx, channelID, gen)
		if err != nil {
			return err
		}
		for len(pages) > 0 && pages[0].Number <= st.PagesDone {
			pages = pages[1:]
		}
		if len(pages) == 0 {
			out = st
			return nil
		}
		var all []Listing
		var problems []ProductProblem
		bad, fetchedAt := 0, pages[0].FetchedAt
		for i, p := range pages {
			if p.Number != st.PagesDone+1+i {
				return fmt.Errorf("page %d offered after page %d: pages are committed in order", p.Number, st.PagesDone+i)
			}
			ls, unfit := storableListings(p.Listings)
			all = append(all, ls...)
			problems = append(append(problems, p.Problems...), unfit...)
			bad += p.BadProducts + len(unfit)
			if p.FetchedAt.Before(fetchedAt) {
				fetchedAt = p.FetchedAt
			}
		}
		if err := recordProductProblems(ctx, tx, channelID, gen, problems); err != nil {
			return err
		}
		last := pages[len(pages)-1]
		d, err := upsertListings(ctx, tx, channelID, gen, dedupeListings(all), fetchedAt, last.Last)
		if err != nil {
			return err
		}
		pagesTotal := last.PagesTotal
		if last.Last {
			pagesTotal = last.Number
		}
		out, err = scanListingState(tx.QueryRow(ctx, `UPDATE listing_downloads SET pages_done = $2, pages_total = $3,
				products_total = $4, listings_seen = listings_seen + $5, empty_skus = empty_skus + $6,
				duplicate_skus = duplicate_skus + $7, bad_products = bad_products + $8, listings_restored = listings_restored + $9,
				estimated_completion = $10, updated_at = now()
			WHERE channel_id = $1 RETURNING `+listingStateColumns,
			channelID, last.Number, pagesTotal, last.ProductsTotal, d.seen, d.empty, d.duplicates, bad, d.restored,
			last.EstimatedCompletion))
		return err
	})
	if err != nil {
		return out, fmt.Errorf("write listing pages from %d: %w", pages[0].Number, err)
	}
	return out, nil
}

// dedupeListings keeps the last of listings that share a key: one statement cannot
// upsert a row twice.
func dedupeListings(in []Listing) []Listing {
	type key struct{ p, v int64 }
	at := make(map[key]int, len(in))
	out := make([]Listing, 0, len(in))
	for _, l := range in {
		k := key{l.ProductID, l.VariantID}
		if i, ok := at[k]; ok {
			out[i] = l
			continue
		}
		at[k] = len(out)
		out = append(out, l)
	}
	return out
}

// pageDeltas is what one page adds to the generation's counters.
type pageDeltas struct {
	seen, empty, duplicates, restored int
}

// upsertListings writes pages' listings and their outbound seeds in one round
// trip, and works out what they add to the counters: listings new to the
// generation, empty SKUs among them, listings restored from removed, and the
// change in listings whose SKU another listing of the generation shares.
func upsertListings(ctx context.Context, tx pgx.Tx, channelID, gen int64, ls []Listing, fetchedAt time.Time, last bool) (pageDeltas, error) {
	n := len(ls)
	products, variants, stocks := make([]int64, n), make([]int64, n), make([]int64, n)
	skus, names, variantNames := make([]string, n), make([]string, n), make([]string, n)
	lives, prices := make([]bool, n), make([]float64, n)
	var pageSKUs []string
	seenSKU := map[string]bool{}
	for i, l := range ls {
		products[i], variants[i], stocks[i] = l.ProductID, l.VariantID, l.Stock
		skus[i], names[i], variantNames[i], lives[i], prices[i] = l.SKU, l.Name, l.VariantName, l.Live, l.Price
		if l.SKU != "" && !seenSKU[l.SKU] {
			seenSKU[l.SKU] = true
			pageSKUs = append(pageSKUs, l.SKU)
		}
	}
	const skuCounts = `SELECT sku, count(*) FROM listings WHERE channel_id = $1 AND seen_generation = $2
		AND removed_at IS NULL AND sku = ANY($3) GROUP BY sku`
	b := &pgx.Batch{}
	// Plans made for these parameters: a generic plan for "sku = ANY($3)" scans
	// the channel's listings, which makes a download quadratic. Pages before the
	// last need not wait for the disk: a commit lost in a crash of PostgreSQL
	// takes its pages and their counters with it, and the download resumes before
	// them; the last page's commit flushes them all before the download can finish.
	b.Queue(`SELECT set_config('plan_cache_mode', 'force_custom_plan', true),
		set_config('synchronous_commit', CASE WHEN $1 THEN 'on' ELSE 'off' END, true)`, last)
	// Before: which of the page's listings the generation already saw, or were removed.
	prior := b.Queue(`SELECT l.product_id, l.variant_id, l.seen_generation = $2, l.removed_at IS NOT NULL
		FROM listings l JOIN unnest($3::bigint[], $4::bigint[]) AS p(product_id, variant_id)
			ON l.product_id = p.product_id AND l.variant_id = p.variant_id
		WHERE l.channel_id = $1`, channelID, gen, products, variants)
	before := b.Queue(skuCounts, channelID, gen, pageSKUs)
	b.Queue(`INSERT INTO listings AS l (channel_id, product_id, variant_id, sku, name, variant_name, live,
			ekm_price, ekm_stock, sku_problem, seen_generation, removed_at, updated_at)
		SELECT $1, p.product_id, p.variant_id, p.sku, p.name, p.variant_name, p.live, p.price::numeric(12,2), p.stock,
			CASE WHEN p.sku = '' THEN 'empty' END, $2, NULL, now()
		FROM unnest($3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::bool[], $9::float8[], $10::bigint[])
			AS p(product_id, variant_id, sku, name, variant_name, live, price, stock)
		ON CONFLICT (channel_id, product_id, variant_id) DO UPDATE SET
			sku = EXCLUDED.sku, name = EXCLUDED.name, variant_name = EXCLUDED.variant_name, live = EXCLUDED.live,
			ekm_price = EXCLUDED.ekm_price, ekm_stock = EXCLUDED.ekm_stock,
			-- A duplicate stays one until the finish recounts, unless its SKU changed.
			sku_problem = CASE WHEN EXCLUDED.sku = '' THEN 'empty' WHEN l.sku = EXCLUDED.sku THEN l.sku_problem END,
			seen_generation = EXCLUDED.seen_generation, removed_at = NULL, updated_at = now()`,
		channelID, gen, products, variants, skus, names, variantNames, lives, prices, stocks)
	// The outbound ledger confirms what EKM showed, unless a push tried a value
	// after this page was requested: its confirmation is newer, and a failed try
	// leaves the value unknown (EKM may have applied it).
	b.Queue(`INSERT INTO listing_outbound AS o (channel_id, product_id, variant_id, confirmed_qty, confirmed_price)
		SELECT $1, p.product_id, p.variant_id, p.stock, p.price::numeric(12,2)
		FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], $5::float8[]) AS p(product_id, variant_id, stock, price)
		ON CONFLICT (channel_id, product_id, variant_id) DO UPDATE SET
			confirmed_qty = CASE WHEN o.stock_attempted_at IS NULL OR o.stock_attempted_at < $6 THEN EXCLUDED.confirmed_qty ELSE o.confirmed_qty END,
			confirmed_price = CASE WHEN o.price_attempted_at IS NULL OR o.price_attempted_at < $6 THEN EXCLUDED.confirmed_price ELSE o.confirmed_price END,
			updated_at = now()
		WHERE o.confirmed_qty IS DISTINCT FROM EXCLUDED.confirmed_qty OR o.confirmed_price IS DISTINCT FROM EXCLUDED.confirmed_price`,
		channelID, products, variants, stocks, prices, fetchedAt)
	after := b.Queue(skuCounts, channelID, gen, pageSKUs)

	type key struct{ p, v int64 }
	var d pageDeltas
	inGen := map[key]bool{}
	prior.Query(func(rows pgx.Rows) error {
		var k key
		var seen, removed bool
		_, err := pgx.ForEachRow(rows, []any{&k.p, &k.v, &seen, &removed}, func() error {
			inGen[k] = seen
			if removed {
				d.restored++
			}
			return nil
		})
		return err
	})
	beforeCounts, afterCounts := map[string]int{}, map[string]int{}
	before.Query(func(rows pgx.Rows) error { return scanCounts(rows, beforeCounts) })
	after.Query(func(rows pgx.Rows) error { return scanCounts(rows, afterCounts) })
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return d, err
	}
	for _, l := range ls {
		if inGen[key{l.ProductID, l.VariantID}] {
			continue
		}
		d.seen++
		if l.SKU == "" {
			d.empty++
		}
	}
	for _, sku := range pageSKUs {
		d.duplicates += shared(afterCounts[sku]) - shared(beforeCounts[sku])
	}
	return d, nil
}

// shared is how many of n listings with one SKU count as duplicates.
func shared(n int) int {
	if n < 2 {
		return 0
	}
	return n
}

func scanCounts(rows pgx.Rows, into map[string]int) error {
	var sku string
	var n int
	_, err := pgx.ForEachRow(rows, []any{&sku, &n}, func() error {
		into[sku] = n
		return nil
	})
	return err
}
