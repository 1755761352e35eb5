package main

import (
	"fmt"
	"os"
)

// tb is the harness's TB outside 'go test': Fatal stops the current benchmark (a
// panic recovered by runOne), Cleanup functions run when the benchmark ends.
type tb struct {
	name     string
	cleanups []func()
	dirs     []string
}

type fatal struct{ msg string }

func (f fatal) Error() string { return f.msg }

func newTB(name string) *tb { return &tb{name: name} }

func (t *tb) Helper()                           {}
func (t *tb) Name() string                      { return t.name }
func (t *tb) Logf(format string, args ...any)   { fmt.Fprintf(os.Stderr, "    "+format+"\n", args...) }
func (t *tb) Fatal(args ...any)                 { panic(fatal{fmt.Sprint(args...)}) }
func (t *tb) Fatalf(format string, args ...any) { panic(fatal{fmt.Sprintf(format, args...)}) }
func (t *tb) Cleanup(f func())                  { t.cleanups = append(t.cleanups, f) }

func (t *tb) TempDir() string {
	d, err := os.MkdirTemp("", "ekmsync-bench-")
	if err != nil {
		t.Fatal(err)
	}
	t.dirs = append(t.dirs, d)
	return d
}

func (t *tb) cleanup() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
	t.cleanups = nil
	for _, d := range t.dirs {
		_ = os.RemoveAll(d)
	}
}
