package chaos

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// monkey kills a worker process, drawn at random, with SIGKILL at random
// moments of the window, starting it again after a random pause (so one is down
// at a time and the others work on), and restarts PostgreSQL once between two
// kills.
func (r *runner) monkey(ctx context.Context) error {
	rng := r.rng(7)
	type event struct {
		at   time.Duration
		kill bool
	}
	var events []event
	span := int64(r.cfg.Window) * 85 / 100
	for range r.cfg.Kills {
		events = append(events, event{at: r.cfg.Window/20 + time.Duration(rng.Int64N(span)), kill: true})
	}
	if r.cfg.RestartPostgres {
		events = append(events, event{at: r.cfg.Window/10 + time.Duration(rng.Int64N(span*3/4))})
	}
	slices.SortFunc(events, func(a, b event) int { return int(a.at - b.at) })
	for _, e := range events {
		if err := r.at(ctx, e.at); err != nil {
			return fmt.Errorf("chaos monkey: %w", err)
		}
		if !e.kill {
			fmt.Fprintf(r.log, "chaos: %s restarting PostgreSQL\n", r.elapsed())
			if err := r.pg.Restart(ctx); err != nil {
				return fmt.Errorf("restart PostgreSQL: %w", err)
			}
			r.pgRestarts.Add(1)
			continue
		}
		if err := r.killOne(ctx, rng.IntN(len(r.killsOf)), time.Duration(200+rng.IntN(1800))*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

// killOne kills worker process i, waits pause and starts it again, counting
// the EKM requests the other workers made in the pause.
func (r *runner) killOne(ctx context.Context, i int, pause time.Duration) error {
	before := apiRequests(r.env.Sim.RequestStats())
	r.env.KillWorkerProcess(i)
	r.kills.Add(1)
	fmt.Fprintf(r.log, "chaos: %s killed worker %d of %d (SIGKILL), restarting it in %s\n", r.elapsed(), i+1, len(r.killsOf), pause)
	if err := sleep(ctx, pause); err != nil {
		return fmt.Errorf("chaos monkey: %w", err)
	}
	during := apiRequests(r.env.Sim.RequestStats()) - before
	r.mu.Lock()
	r.killsOf[i]++
	r.requestsWhileDown += during
	r.mu.Unlock()
	if err := r.env.TryStartWorkerProcess(i); err != nil {
		return fmt.Errorf("restart worker %d after kill %d: %w", i+1, r.kills.Load(), err)
	}
	return nil
}

// elapsed is the time since the traffic started, for log lines.
func (r *runner) elapsed() string {
	return fmt.Sprintf("[%5.1fs]", time.Since(r.start).Seconds())
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
