package ekm

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// fakeShared is a SharedBucket in memory that records what the budget told it.
type fakeShared struct {
	mu     sync.Mutex
	level  float64
	raised []float64
	shape  *BucketShape // learnt by a process, nil until then
}

func (f *fakeShared) Shape(ctx context.Context) (BucketShape, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.shape == nil {
		return BucketShape{}, false, nil
	}
	return *f.shape, true, nil
}

func (f *fakeShared) Learn(ctx context.Context, shape BucketShape) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.shape = &shape
	return nil
}

func (f *fakeShared) Take(ctx context.Context, limit, leak float64) (time.Duration, float64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.level++
	return 0, f.level, nil
}

func (f *fakeShared) Raise(ctx context.Context, counted, leak float64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.raised = append(f.raised, counted)
	return nil
}

func (f *fakeShared) Block(ctx context.Context, size, leak float64, retryAfter time.Duration) error {
	return nil
}

// rateHeaders are EKM's rate headers for a bucket of 40 leaking 2 a second.
func rateHeaders(remaining int) http.Header {
	h := http.Header{}
	h.Set(headerRemaining, strconv.Itoa(remaining))
	h.Set(headerBucketSize, "40")
	h.Set(headerLeakRate, "1")
	h.Set(headerLeakAmount, "2")
	return h
}

func TestSharedBudgetLearnsOnlyWhatEKMSurelyHolds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		shared := &fakeShared{}
		b := NewSharedBudget(40, 2, shared)

		// EKM counts this request and nothing else: the shared bucket knows it.
		seq, err := b.acquire(t.Context(), PriorityOrders)
		if err != nil {
			t.Fatal(err)
		}
		b.observe(seq, rateHeaders(39))
		if len(shared.raised) != 0 {
			t.Fatalf("raised to %v for a count the shared bucket already holds", shared.raised)
		}

		// EKM counts 10 (someone else uses the bucket), but the answer took 2 s:
		// EKM surely holds more than 10−1 less 4 leaked since, not 10.
		seq, err = b.acquire(t.Context(), PriorityOrders)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second)
		b.observe(seq, rateHeaders(30))
		if len(shared.raised) != 1 || shared.raised[0] != 5 {
			t.Fatalf("raised to %v, want once to 5", shared.raised)
		}
	})
}
