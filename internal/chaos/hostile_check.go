package chaos

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/store"
)

// shopProducts are the shop's products less the oversized ones, which the hub
// cannot hold and reports as listing problems instead.
func (r *runner) shopProducts() []ekm.Product {
	products := r.env.Sim.Products()
	if len(r.oversized) == 0 {
		return products
	}
	return slices.DeleteFunc(products, func(p ekm.Product) bool { return r.oversized[p.ID] })
}

// checkHostile runs the hostile mode's checks.
func (r *runner) checkHostile(ctx context.Context, channelID int64) ([]Finding, error) {
	poison, err := r.checkPoison(ctx, channelID)
	if err != nil {
		return nil, err
	}
	hints, err := r.checkHints(ctx, channelID)
	if err != nil {
		return nil, err
	}
	oversized, err := r.checkOversized(ctx, channelID)
	if err != nil {
		return nil, err
	}
	loops, err := r.checkLoops(ctx)
	if err != nil {
		return nil, err
	}
	return []Finding{poison, hints, oversized, loops}, nil
}

// checkPoison: every poison order is quarantined in order_problems with a
// reason, unresolved, and is not in the hub's orders.
func (r *runner) checkPoison(ctx context.Context, channelID int64) (Finding, error) {
	r.mu.Lock()
	poison := slices.Clone(r.poison)
	r.mu.Unlock()
	f := Finding{Check: "poison orders quarantined with a reason", Checked: len(poison)}
	reasons := map[int64]string{}
	rows, err := r.env.DB.Pool.Query(ctx, `SELECT ekm_order_id, reason FROM order_problems
		WHERE channel_id = $1 AND ekm_order_id IS NOT NULL AND resolved_at IS NULL`, channelID)
	if err != nil {
		return f, fmt.Errorf("read the hub's order problems: %w", err)
	}
	var id int64
	var reason string
	if _, err := pgx.ForEachRow(rows, []any{&id, &reason}, func() error {
		reasons[id] = reason
		return nil
	}); err != nil {
		return f, fmt.Errorf("read the hub's order problems: %w", err)
	}
	var stored []int64
	rows, err = r.env.DB.Pool.Query(ctx, `SELECT ekm_order_id FROM orders WHERE channel_id = $1 AND ekm_order_id = ANY($2)`, channelID, poison)
	if err != nil {
		return f, fmt.Errorf("read the hub's orders: %w", err)
	}
	if _, err := pgx.ForEachRow(rows, []any{&id}, func() error {
		stored = append(stored, id)
		return nil
	}); err != nil {
		return f, fmt.Errorf("read the hub's orders: %w", err)
	}
	for _, id := range poison {
		switch {
		case slices.Contains(stored, id):
			f.mismatch("poison order %d is in the hub's orders", id)
		case reasons[id] == "":
			f.mismatch("poison order %d is not quarantined with a reason", id)
		}
	}
	return f, nil
}

// checkHints: no forged webhook reached the order sync (none of their ids was
// handed over), and the authenticated ones stayed within the receiver's bound per
// minute. The receiver keeps the latest hand-over of each id, so the per-minute
// figure counts each id once in the minute of its latest hand-over.
func (r *runner) checkHints(ctx context.Context, channelID int64) (Finding, error) {
	f := Finding{Check: "webhook hints kept within bounds"}
	var forged int
	if err := r.env.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM webhook_hints WHERE channel_id = $1 AND ekm_order_id >= $2`,
		channelID, forgedID).Scan(&forged); err != nil {
		return f, fmt.Errorf("read the receiver's hints: %w", err)
	}
	if forged > 0 {
		f.mismatch("%d forged webhooks reached the order sync", forged)
	}
	rows, err := r.env.DB.Pool.Query(ctx, `SELECT to_char(date_trunc('minute', signalled_at), 'HH24:MI'), count(*)
		FROM webhook_hints WHERE channel_id = $1 GROUP BY 1 ORDER BY 1`, channelID)
	if err != nil {
		return f, fmt.Errorf("read the receiver's hints: %w", err)
	}
	var minute string
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&minute, &n}, func() error {
		f.Checked += n
		if n > store.DefaultHintLimits.PerMinute {
			f.mismatch("%d hints handed over in the minute %s, more than %d", n, minute, store.DefaultHintLimits.PerMinute)
		}
		return nil
	}); err != nil {
		return f, fmt.Errorf("read the receiver's hints: %w", err)
	}
	r.hintsHanded = f.Checked
	return f, nil
}

// checkOversized: every oversized product is a listing problem of the channel.
func (r *runner) checkOversized(ctx context.Context, channelID int64) (Finding, error) {
	f := Finding{Check: "oversized products reported as listing problems", Checked: len(r.oversized)}
	var n int
	if err := r.env.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM listing_problems WHERE channel_id = $1 AND reason <> ''`,
		channelID).Scan(&n); err != nil {
		return f, fmt.Errorf("read the hub's listing problems: %w", err)
	}
	if n < len(r.oversized) {
		f.mismatch("%d listing problems, want one for each of the %d oversized products", n, len(r.oversized))
	}
	return f, nil
}

// checkLoops: no workflow of the channel was terminated, failed, timed out or
// cancelled at any time of the run.
func (r *runner) checkLoops(ctx context.Context) (Finding, error) {
	f := Finding{Check: "workflow runs never closed by a fault"}
	query := fmt.Sprintf(`EkmChannel = %q`, r.env.Channel)
	var token []byte
	for {
		resp, err := r.env.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query, NextPageToken: token})
		if err != nil {
			return f, fmt.Errorf("list the channel's workflow runs: %w", err)
		}
		for _, e := range resp.Executions {
			f.Checked++
			switch s := e.GetStatus(); s {
			case enums.WORKFLOW_EXECUTION_STATUS_RUNNING, enums.WORKFLOW_EXECUTION_STATUS_COMPLETED,
				enums.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW:
			default:
				f.mismatch("run %s of %s closed as %s", e.GetExecution().GetRunId(), e.GetExecution().GetWorkflowId(), s)
			}
		}
		if token = resp.NextPageToken; len(token) == 0 {
			return f, nil
		}
	}
}
