package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ProductProblem is a product a listing download could not store, with the
// reason (listing_problems).
type ProductProblem struct {
	// Key is "product:<id>", or the product's position or a hash of its JSON
	// when its id is unknown.
	Key         string    `json:"key"`
	ProductID   *int64    `json:"product_id,omitempty"`
	Reason      string    `json:"reason"`
	Generation  int64     `json:"generation"`
	FirstSeenAt time.Time `json:"first_seen_at"`
	LastSeenAt  time.Time `json:"last_seen_at"`
}

// ProductKey is the problem key of a product with a known id.
func ProductKey(id int64) string { return fmt.Sprintf("product:%d", id) }

// storableListings returns the listings with their strings made storable and
// those whose price does not fit numeric(12,2) (listings.ekm_price and the
// outbound ledger's confirmed_price) left out, each as a problem.
func storableListings(in []Listing) ([]Listing, []ProductProblem) {
	out := make([]Listing, 0, len(in))
	var problems []ProductProblem
	for _, l := range in {
		l.SKU, l.Name, l.VariantName = Storable(l.SKU), Storable(l.Name), Storable(l.VariantName)
		var c rangeCheck
		c.numeric("price", l.Price, 12, 2)
		if c.err != nil {
			id := l.ProductID
			what := fmt.Sprintf("product %d", id)
			if l.VariantID != 0 {
				what = fmt.Sprintf("product %d, variant %d", id, l.VariantID)
			}
			problems = append(problems, ProductProblem{Key: ProductKey(id), ProductID: &id, Reason: what + ": " + c.err.Error()})
			continue
		}
		out = append(out, l)
	}
	return out, problems
}

// recordProductProblems upserts problems as seen by generation gen.
func recordProductProblems(ctx context.Context, tx pgx.Tx, channelID, gen int64, problems []ProductProblem) error {
	if len(problems) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, p := range problems {
		b.Queue(`INSERT INTO listing_problems AS p (channel_id, problem_key, product_id, reason, generation)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (channel_id, problem_key) DO UPDATE SET product_id = EXCLUDED.product_id,
				reason = EXCLUDED.reason, generation = GREATEST(p.generation, EXCLUDED.generation), last_seen_at = now()`,
			channelID, Storable(p.Key), p.ProductID, Storable(p.Reason), gen)
	}
	return tx.SendBatch(ctx, b).Close()
}

// ProductProblems lists the products of a channel that the latest downloads
// could not store: those seen by the last complete download or by the one
// running since. A problem a complete download no longer saw is gone.
func (s *Store) ProductProblems(ctx context.Context, channelID int64) ([]ProductProblem, error) {
	rows, err := s.Pool.Query(ctx, `SELECT problem_key, product_id, reason, generation, first_seen_at, last_seen_at
		FROM listing_problems
		WHERE channel_id = $1 AND generation >= COALESCE((SELECT completed_generation FROM listing_downloads
			WHERE channel_id = $1), 0)
		ORDER BY product_id NULLS LAST, problem_key`, channelID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[ProductProblem])
}

// KeepProductsSeen records problems of products that EKM still has but whose
// answer cannot be read (too large for the client's body bound even alone) and
// marks their listings seen by generation gen as they are, so that the finish
// does not mark them removed. Problems without a product id are only recorded.
func (s *Store) KeepProductsSeen(ctx context.Context, channelID, gen int64, problems []ProductProblem) error {
	var ids []int64
	for _, p := range problems {
		if p.ProductID != nil {
			ids = append(ids, *p.ProductID)
		}
	}
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if _, err := lockListingGeneration(ctx, tx, channelID, gen); err != nil {
			return err
		}
		if err := recordProductProblems(ctx, tx, channelID, gen, problems); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE listings SET seen_generation = $3, updated_at = now()
			WHERE channel_id = $1 AND product_id = ANY($2) AND seen_generation < $3 AND removed_at IS NULL`, channelID, ids, gen)
		return err
	})
}
