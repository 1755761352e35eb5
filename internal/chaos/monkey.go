package chaos

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// monkey kills the worker with SIGKILL at random moments of the window, starting a
// new one after a random pause, and restarts PostgreSQL once between two kills.
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
		r.env.KillWorker()
		r.kills.Add(1)
		pause := time.Duration(200+rng.IntN(1800)) * time.Millisecond
		fmt.Fprintf(r.log, "chaos: %s killed the worker (SIGKILL), restarting it in %s\n", r.elapsed(), pause)
		if err := sleep(ctx, pause); err != nil {
			return fmt.Errorf("chaos monkey: %w", err)
		}
		if err := r.env.TryStartWorker(true); err != nil {
			return fmt.Errorf("restart the worker after kill %d: %w", r.kills.Load(), err)
		}
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
