package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/store/storetest"
)

// A due scheduled drift comparison is claimed by exactly one of many workers
// claiming at once; it is not due again until drift-interval after the last run,
// never with drift-interval 0, and a lapsed claim (its worker died) is taken over.
func TestDriftClaimIsTakenOnceAndOnlyWhenDue(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	c := newChannel(t, db.Store, "shop")
	if _, _, err := db.Store.UpdateChannel(ctx, c.Name, "test", setTo(channel.Change{Key: "enabled", Value: "on"}, channel.Change{Key: "drift-interval", Value: "1h"})); err != nil {
		t.Fatal(err)
	}
	claim := func(lease time.Duration) (int64, bool) {
		id, ok, err := db.Store.ClaimDueDrift(ctx, "test", lease)
		if err != nil {
			t.Fatal(err)
		}
		return id, ok
	}
	if _, ok := claim(time.Hour); ok {
		t.Fatal("a channel created just now is due already; want due drift-interval after its creation")
	}
	// Created two hours ago: due.
	if _, err := db.Pool.Exec(ctx, `UPDATE channels SET created_at = now() - interval '2 hours' WHERE id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for range 8 {
		wg.Go(func() {
			if id, ok := claim(time.Hour); ok && id == c.ID {
				mu.Lock()
				won++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d workers claimed the due comparison, want exactly 1", won)
	}
	// A lapsed claim is taken over.
	if _, err := db.Pool.Exec(ctx, `UPDATE drift_runs SET claimed_until = now() - interval '1 second' WHERE channel_id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	if id, ok := claim(time.Hour); !ok || id != c.ID {
		t.Fatal("a lapsed claim was not taken over")
	}
	// A recorded run releases the claim and is not due again for an hour.
	if err := db.Store.RecordDriftRun(ctx, c.ID, time.Now(), map[string]int{"stock": 2}, ""); err != nil {
		t.Fatal(err)
	}
	if _, ok := claim(time.Hour); ok {
		t.Fatal("claimed again right after a run")
	}
	runs, err := db.Store.DriftRuns(ctx)
	if err != nil || len(runs) != 1 || string(runs[0].Counts) != `{"stock": 2}` || runs[0].CheckedAt == nil {
		t.Fatalf("drift runs = %+v, %v", runs, err)
	}
	// Off: never due.
	if _, err := db.Pool.Exec(ctx, `UPDATE drift_runs SET last_run_at = now() - interval '30 days' WHERE channel_id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.Store.UpdateChannel(ctx, c.Name, "test", setTo(channel.Change{Key: "drift-interval", Value: "0"})); err != nil {
		t.Fatal(err)
	}
	if _, ok := claim(time.Hour); ok {
		t.Fatal("claimed with drift-interval 0")
	}
}

// setTo is an UpdateChannel edit that applies changes.
func setTo(changes ...channel.Change) func(channel.Settings) (channel.Settings, []channel.AppliedChange, error) {
	return func(s channel.Settings) (channel.Settings, []channel.AppliedChange, error) {
		return channel.Apply(s, changes)
	}
}
