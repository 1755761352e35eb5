// Package bench measures ekmsync against its goals: each benchmark builds its own
// environment (internal/harness), drives the real system, and returns rows of
// figures beside their goals. 'make bench' prints them all in one table. Nothing
// here asserts on time: the figures are reported, never turned into test failures.
package bench

import (
	"github.com/ekmsync/ekmsync/internal/harness"
)

// Row is one measured figure beside its goal.
type Row struct {
	Benchmark string `json:"benchmark"` // what was measured, e.g. "listing download efficiency (20,000 products)"
	Measured  string `json:"measured"`  // the figure, with its unit
	Goal      string `json:"goal"`      // the goal, e.g. ">= 0.95"
	Met       bool   `json:"met"`
	Note      string `json:"note,omitempty"`
}

// Benchmark is one named measurement. Run builds what it needs with the harness,
// on tb, and returns its rows.
type Benchmark struct {
	Name string // what -only and -list take: no commas, -only splits on them
	Run  func(tb harness.TB) ([]Row, error)
}
