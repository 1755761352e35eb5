package activities

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/ekmsync/ekmsync/internal/contract"
	"github.com/ekmsync/ekmsync/internal/store"
)

// Claims of order outbound rows (issue 12): an activity attempt Temporal has given
// up on (its heartbeats lost, its timeout passed) may still be running when the
// next attempt starts. Each attempt claims a row before it calls EKM for it, keeps
// the claim alive while it works, and re-checks it before each write, so that two
// attempts never both send a despatch or a cancellation, and a customer never gets
// two e-mails. A claim whose attempt died expires after claimLease; a write is
// never started with less than claimMargin of the claim left, and its call is
// cancelled when the claim is lost or could not be renewed in time.
const (
	// OrderClaimLease is how long a claim lasts without renewal (the contract's,
	// which the push loop knows too).
	OrderClaimLease = contract.OrderClaimLease
	claimLease      = OrderClaimLease
	// claimRenew is how often a working attempt renews its claim.
	claimRenew = claimLease / 3
	// claimMargin is the least time a write starts with before the claim's end
	// (by this process's clock): more than a renewal's round trip.
	claimMargin = 4 * time.Second
)

// errClaimLost says another attempt owns the row now, or owned it first: this
// attempt leaves it alone.
var errClaimLost = errors.New("another attempt of the push holds this order's outbound work")

// claimOwner names one call of a push activity: unique, and readable in the
// ledger (which workflow's attempt, on which host).
func claimOwner(ctx context.Context) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	host, _ := os.Hostname()
	if !activity.IsActivity(ctx) {
		return fmt.Sprintf("%s/%s", host, hex.EncodeToString(b))
	}
	info := activity.GetInfo(ctx)
	return fmt.Sprintf("%s/%s#%d/%s", host, info.WorkflowExecution.ID, info.Attempt, hex.EncodeToString(b))
}

// orderClaim is this attempt's claim on one row, renewed in the background.
type orderClaim struct {
	store  *store.Store
	w      store.OrderWork
	owner  string
	cancel context.CancelCauseFunc
	stop   chan struct{}
	done   chan struct{}

	mu    sync.Mutex
	until time.Time // by this process's clock: the claim's end as last renewed, less claimMargin
}

type claimKey struct{}

// claimOrder claims w's row for owner. It returns the row's fresh state and a
// context for the work on it, which is cancelled when the claim is lost; ok is
// false when another attempt holds the row or it was closed meanwhile.
func (a *Activities) claimOrder(ctx context.Context, w store.OrderWork, owner string) (context.Context, *orderClaim, bool, error) {
	started := time.Now()
	fresh, ok, err := a.Store.ClaimOrderWork(ctx, w, owner, claimLease, a.now())
	if err != nil || !ok {
		return ctx, nil, false, err
	}
	c := &orderClaim{store: a.Store, w: fresh, owner: owner, stop: make(chan struct{}), done: make(chan struct{}),
		until: started.Add(claimLease - claimMargin)}
	var cctx context.Context
	cctx, c.cancel = context.WithCancelCause(ctx)
	go c.keep(cctx)
	return context.WithValue(cctx, claimKey{}, c), c, true, nil
}

// keep renews the claim until release, and cancels the work's context when the
// claim is lost or its end comes without a renewal.
func (c *orderClaim) keep(ctx context.Context) {
	defer close(c.done)
	t := time.NewTicker(claimRenew)
	defer t.Stop()
	for {
		c.mu.Lock()
		left := time.Until(c.until)
		c.mu.Unlock()
		select {
		case <-c.stop:
			return
		case <-ctx.Done():
			return
		case <-time.After(left):
			c.cancel(errClaimLost) // not renewed in time: another attempt may take it now
			return
		case <-t.C:
			if err := c.renew(ctx); errors.Is(err, errClaimLost) {
				c.cancel(err)
				return
			}
		}
	}
}

// renew extends the claim, failing with errClaimLost when it is not this
// attempt's any more.
func (c *orderClaim) renew(ctx context.Context) error {
	started := time.Now()
	ok, err := c.store.RenewOrderClaim(ctx, c.w.OrderID, c.w.Kind, c.owner, claimLease)
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case err != nil:
		return err
	case !ok:
		return errClaimLost
	}
	c.until = started.Add(claimLease - claimMargin)
	return nil
}

// release stops the renewals and ends the claim.
func (c *orderClaim) release(ctx context.Context) {
	close(c.stop)
	<-c.done
	c.cancel(nil)
	_ = c.store.ReleaseOrderClaim(context.WithoutCancel(ctx), c.w.OrderID, c.w.Kind, c.owner)
}

// beforeWrite re-checks and renews the claim on the row that ctx works on, right
// before a write to EKM: it fails with errClaimLost when another attempt owns the
// row now, so the write is not sent.
func beforeWrite(ctx context.Context) error {
	c, _ := ctx.Value(claimKey{}).(*orderClaim)
	if c == nil {
		return errors.New("an order write without a claim on its outbound row")
	}
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return c.renew(ctx)
}

// claimLostIn reports whether err, or the end of ctx, comes from a lost claim.
func claimLostIn(ctx context.Context, err error) bool {
	return errors.Is(err, errClaimLost) || errors.Is(context.Cause(ctx), errClaimLost)
}
