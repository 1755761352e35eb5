package store_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/internal/store/storetest"
)

// Hints claimed at once by two processes (two pools) still hand a channel at
// most PerMinute in a minute: a claim counts the other process's claims, never
// only those committed before it began (the reduced chaos run with two workers
// once handed over 61).
func TestWebhookHintsPerMinuteHoldAcrossConcurrentProcesses(t *testing.T) {
	db := storetest.New(t)
	ctx := t.Context()
	s := channel.Defaults()
	s.Name, s.APIBaseURL, s.ClientID, s.RedirectURL, s.Currency = "shop", "https://api.ekm.net", "cid", "http://127.0.0.1:8765/callback", "GBP"
	ch, err := db.Store.CreateChannel(ctx, s, func(int64) []byte { return []byte("sealed") }, "test")
	if err != nil {
		t.Fatal(err)
	}
	pool, err := store.Connect(ctx, db.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	other := store.New(pool)
	lim := store.HintLimits{RepeatAfter: time.Minute, PerMinute: 20}
	var claimed atomic.Int64
	var wg sync.WaitGroup
	for i := range 400 {
		st := db.Store
		if i%2 == 1 {
			st = other
		}
		wg.Go(func() {
			ok, err := st.ClaimWebhookHint(ctx, ch.ID, int64(1000+i), lim)
			if err != nil {
				t.Error(err)
			}
			if ok {
				claimed.Add(1)
			}
		})
	}
	wg.Wait()
	if n := claimed.Load(); n != int64(lim.PerMinute) {
		t.Errorf("400 hints of distinct orders claimed at once by two processes: %d handed over, want the bound %d", n, lim.PerMinute)
	}
}
