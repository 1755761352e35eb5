package service

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/ekmsync/ekmsync/activities"
	"github.com/ekmsync/ekmsync/internal/observe"
)

// The receiver's own fetch of webhooked orders.
const (
	// directFetchWait bounds how long a webhook's request waits for its order to
	// be fetched into the hub: EKM waits 5 s for an answer, and what is left is
	// for handing the id to the order-sync loop instead.
	directFetchWait = 2 * time.Second
	// maxFetchBatch bounds the ids one fetch asks for (one search, and each new
	// order's items), so that it stays within directFetchWait at a busy shop;
	// more wait for the next, or go to the loop.
	maxFetchBatch = 10
)

// orderFetch fetches orders of a channel by id into the hub, and reports
// whether it ran: false when the channel is not ok (disabled, needing
// reauthorisation), whose loop then holds the ids until it is.
type orderFetch func(ctx context.Context, channel string, orderIDs []int64) (bool, error)

// errNoFetchSlot fails a batch that found every fetch slot busy.
var errNoFetchSlot = errors.New("every fetch slot is busy")

// orderFetches runs the receiver's fetches, one at a time per channel: the ids
// that arrive while a channel's fetch runs gather into its next one, which
// starts when it ends. A quiet shop's order is fetched at once; a busy shop's
// webhooks share a search by id (group commit), so that the receiver asks EKM
// no more than the loop, which fetched its pending hints together, did. At most
// cap(slots) fetches run at a time across channels.
type orderFetches struct {
	ctx    context.Context
	do     orderFetch
	slots  chan struct{}
	logger *slog.Logger

	mu        sync.Mutex
	byChannel map[string]*channelFetches
}

// channelFetches is one channel's running fetches (in byChannel while they
// run): the batch gathering for the next.
type channelFetches struct {
	next *fetchBatch
}

// fetchBatch is ids fetched together, and how that ended (once done is closed).
type fetchBatch struct {
	ids  []int64
	done chan struct{}
	ran  bool
	err  error
}

func newOrderFetches(ctx context.Context, slots int, fetch orderFetch, logger *slog.Logger) *orderFetches {
	return &orderFetches{ctx: ctx, do: fetch, slots: make(chan struct{}, slots), logger: logger,
		byChannel: map[string]*channelFetches{}}
}

// fetch fetches the order into the hub within ctx and directFetchWait, and
// reports whether it did. A webhooked order then costs Temporal nothing: no
// signal, no workflow task, no local activity, which under the load of hundreds
// of channels is what kept an order waiting. It does not (and the caller hands
// the id to the loop) when f is nil, the channel's next batch is full, every
// slot is busy, the fetch fails or is not done in time, or the channel is not
// ok. A fetch that ends after its caller gave up is harmless: every write is an
// upsert on the order's id.
func (f *orderFetches) fetch(ctx context.Context, channel string, orderID int64) bool {
	if f == nil {
		return false
	}
	b, ok := f.join(channel, orderID)
	if !ok {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, directFetchWait)
	defer cancel()
	select {
	case <-b.done:
		if b.err != nil {
			f.logger.Debug("webhook: the receiver's own fetch failed; the order-sync loop fetches the order", "channel", channel, "order_id", orderID, "err", b.err)
		}
		return b.err == nil && b.ran
	case <-ctx.Done():
		f.leave(channel, b, orderID)
		return false
	}
}

// join adds orderID to the channel's next batch, and starts the channel's
// fetches when none runs. It reports false when the next batch is full.
func (f *orderFetches) join(channel string, orderID int64) (*fetchBatch, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.byChannel[channel]
	if c == nil {
		c = &channelFetches{}
		f.byChannel[channel] = c
		go f.run(channel, c) // it takes the lock, so it finds the id added below
	}
	if c.next == nil {
		c.next = &fetchBatch{done: make(chan struct{})}
	}
	b := c.next
	if len(b.ids) >= maxFetchBatch {
		return nil, false
	}
	b.ids = append(b.ids, orderID)
	return b, true
}

// leave takes orderID out of b if b has not started, so that an id whose caller
// gave up (and handed it to the loop) is not fetched twice.
func (f *orderFetches) leave(channel string, b *fetchBatch, orderID int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c := f.byChannel[channel]; c != nil && c.next == b {
		b.ids = slices.DeleteFunc(b.ids, func(id int64) bool { return id == orderID })
	}
}

// run fetches the channel's batches one after another until none gathers.
func (f *orderFetches) run(channel string, c *channelFetches) {
	for {
		f.mu.Lock()
		b := c.next
		c.next = nil
		if b == nil {
			delete(f.byChannel, channel)
			f.mu.Unlock()
			return
		}
		f.mu.Unlock()
		if len(b.ids) > 0 {
			b.ran, b.err = f.fetchBatch(channel, b.ids)
		}
		close(b.done)
	}
}

// fetchBatch fetches ids in a fetch slot, within directFetchWait.
func (f *orderFetches) fetchBatch(channel string, ids []int64) (bool, error) {
	select {
	case f.slots <- struct{}{}:
		defer func() { <-f.slots }()
	default:
		return false, errNoFetchSlot
	}
	ctx, cancel := context.WithTimeout(f.ctx, directFetchWait)
	defer cancel()
	return f.do(ctx, channel, ids)
}

// fetchByID is the receiver's fetch of webhooked orders: the order-sync
// activity's fetch of hints by id, run by the receiver instead of the loop, at
// order priority of the shop's shared rate budget.
func fetchByID(acts *activities.Activities) orderFetch {
	return func(ctx context.Context, channel string, orderIDs []int64) (bool, error) {
		res, err := acts.SyncOrders(ctx, activities.SyncOrdersInput{Channel: channel, Hints: orderIDs, HintsOnly: true})
		if err != nil {
			return false, err
		}
		observe.CountOrderFetch(res) // ekmsync_orders_total, as for the loop's fetches
		return res.Ran, nil
	}
}
