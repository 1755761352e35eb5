package ekmsim

import (
	"context"
	"sync"
)

// Holds let a test stand in for a slow or stalled answer from EKM: the shop
// applies a write at once, as EKM does, but keeps its answer until the test
// releases it. An attempt of the push that waits for such an answer is one that
// Temporal may give up on while it still runs, so a test can start the next
// attempt meanwhile and see that the order is not written twice.

// Hold is one held answer, made by HoldNextWrite.
type Hold struct {
	reached chan struct{}
	release chan struct{}
	once    sync.Once
}

// Reached is closed once the write the hold waits for has been applied and its
// answer is held.
func (h *Hold) Reached() <-chan struct{} { return h.reached }

// Release lets the held answer go (or, if the write has not come yet, lets it
// pass unheld). It may be called more than once.
func (h *Hold) Release() { h.once.Do(func() { close(h.release) }) }

// writeHolds are the holds waiting for their write, by write kind.
type writeHolds struct {
	mu      sync.Mutex
	pending map[string][]*Hold
}

// HoldNextWrite holds the answer to the next API write of kind (KindOrderStatus,
// KindOrderTracking...) after the shop applied it, until the hold is released or
// the client goes away.
func (s *Sim) HoldNextWrite(kind string) *Hold {
	h := &Hold{reached: make(chan struct{}), release: make(chan struct{})}
	s.holds.mu.Lock()
	defer s.holds.mu.Unlock()
	if s.holds.pending == nil {
		s.holds.pending = map[string][]*Hold{}
	}
	s.holds.pending[kind] = append(s.holds.pending[kind], h)
	return h
}

// wait holds a write of kind that was just applied, if a hold waits for one.
func (hs *writeHolds) wait(ctx context.Context, kind string) {
	hs.mu.Lock()
	q := hs.pending[kind]
	var h *Hold
	if len(q) > 0 {
		h, hs.pending[kind] = q[0], q[1:]
	}
	hs.mu.Unlock()
	if h == nil {
		return
	}
	close(h.reached)
	select {
	case <-h.release:
	case <-ctx.Done():
	}
}
