package harness

import (
	"fmt"
	"os"
)

// ProgramTB is the harness's TB outside 'go test', for the commands that drive the
// system (make bench, make chaos): Fatal panics with a Fatal value, which the
// command recovers with Recover; Cleanup functions run at RunCleanups.
type ProgramTB struct {
	name     string
	cleanups []func()
	dirs     []string
}

// Fatal is the panic value of ProgramTB's Fatal and Fatalf.
type Fatal struct{ Msg string }

// Error returns the failure's message.
func (f Fatal) Error() string { return f.Msg }

// NewProgramTB returns a ProgramTB named name.
func NewProgramTB(name string) *ProgramTB { return &ProgramTB{name: name} }

// Helper does nothing: there is no test output to attribute lines in.
func (t *ProgramTB) Helper() {}

// Name returns the name given to NewProgramTB.
func (t *ProgramTB) Name() string { return t.name }

// Logf writes an indented line to stderr.
func (t *ProgramTB) Logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "    "+format+"\n", args...)
}

// Fatal panics with a Fatal of its arguments.
func (t *ProgramTB) Fatal(args ...any) { panic(Fatal{fmt.Sprint(args...)}) }

// Fatalf panics with a Fatal of its formatted arguments.
func (t *ProgramTB) Fatalf(format string, args ...any) { panic(Fatal{fmt.Sprintf(format, args...)}) }

// Cleanup registers f to run at RunCleanups, last registered first.
func (t *ProgramTB) Cleanup(f func()) { t.cleanups = append(t.cleanups, f) }

// TempDir makes a directory removed at RunCleanups.
func (t *ProgramTB) TempDir() string {
	d, err := os.MkdirTemp("", "ekmsync-"+t.name+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.dirs = append(t.dirs, d)
	return d
}

// RunCleanups runs the registered cleanups and removes the temporary directories.
func (t *ProgramTB) RunCleanups() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
	t.cleanups = nil
	for _, d := range t.dirs {
		_ = os.RemoveAll(d)
	}
	t.dirs = nil
}

// Recover runs f, turning a ProgramTB Fatal in it into an error; other panics go on.
func Recover(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if f, ok := r.(Fatal); ok {
				err = f
				return
			}
			panic(r)
		}
	}()
	return f()
}
