package drift

import (
	"context"
	"fmt"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/store"
)

// HealResult is what a heal handed to the normal paths.
type HealResult struct {
	// ListingsMarked is how many stock and price values were made unknown in
	// the push ledger, so that the push sends the hub's value again.
	ListingsMarked int `json:"listings_marked"`
	// BackfillIDs are the EKM orders handed to the order back-fill, and
	// Backfills its workflows.
	BackfillIDs []int64  `json:"backfill_ids,omitempty"`
	Backfills   []string `json:"backfills,omitempty"`
	// Left is how many drifted rows no normal path repairs (the operator's).
	Left int `json:"left"`
}

// Backfill starts the order back-fill of the channel for these EKM order ids
// (workflows.Starter.StartOrderBackfill) and returns its workflow ID.
type Backfill func(ctx context.Context, ids []int64) (string, error)

// backfillChunk bounds the ids of one back-fill: its input is a Temporal payload.
const backfillChunk = 500

// Heal repairs the report's drifted rows through the normal paths only, never
// writing to EKM itself: a drifted stock or price value is made unknown in the
// push ledger (as a failed send does), so the push loop sends the hub's value
// through its rules, claim and rate budget; missed orders, and orders shipped or
// cancelled on EKM that the hub holds open, go to the order back-fill by id, which
// applies the sync's rules. Listings EKM no longer lists are left to the next full
// listing download, and despatches EKM does not show to the operator.
func Heal(ctx context.Context, st *store.Store, s channel.Settings, r *Report, actor string, backfill Backfill) (HealResult, error) {
	var res HealResult
	var stock, price []store.ListingKey
	for _, l := range r.Listings {
		if l.State != StateDrifted {
			continue
		}
		switch l.Kind {
		case KindStock:
			stock = append(stock, l.ListingKey)
		case KindPrice:
			price = append(price, l.ListingKey)
		default:
			res.Left++
		}
	}
	n, err := st.MarkListingsUnknown(ctx, s.ID, stock, price, actor)
	if err != nil {
		return res, fmt.Errorf("mark the drifted listings unknown in the push ledger: %w", err)
	}
	res.ListingsMarked = n
	for _, o := range r.Orders {
		if o.State != StateDrifted {
			continue
		}
		if o.Kind == KindShippedInHub {
			res.Left++
			continue
		}
		res.BackfillIDs = append(res.BackfillIDs, o.EKMOrderID)
	}
	for i := 0; i < len(res.BackfillIDs); i += backfillChunk {
		ids := res.BackfillIDs[i:min(i+backfillChunk, len(res.BackfillIDs))]
		id, err := backfill(ctx, ids)
		if err != nil {
			return res, fmt.Errorf("start the order back-fill of %d orders: %w", len(ids), err)
		}
		res.Backfills = append(res.Backfills, id)
	}
	r.Healed = &res
	return res, nil
}
