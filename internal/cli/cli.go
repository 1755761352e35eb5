// Package cli is the operator's command line, 'starter': every command takes
// -o json (or --json) for scripts and exits 0 when its operation ran, 1 when it
// could not run or failed, and 2 on a usage error (docs/cli.md). The starter
// binary is a thin main around Main, so tests drive the very same code.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ekmsync/ekmsync/internal/config"
)

// Exit codes.
const (
	ExitOK     = 0
	ExitFailed = 1
	ExitUsage  = 2
)

// IO is where a command reads and writes, and optionally its configuration: nil
// means the environment's (tests pass their own, so they can run in parallel).
type IO struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Config *config.Starter
}

// command is one node of the command tree: a group (with subcommands) or a leaf.
type command struct {
	name    string
	args    string // positional arguments, for usage
	summary string
	flags   func(fs *flag.FlagSet) // declares the command's own flags (cobra parses them: cobra.go)
	run     func(ctx context.Context, e *env, fs *flag.FlagSet, args []string) (result, error)
	subs    []*command
}

// result is what a command produced: JSON with -o json, text otherwise.
type result interface {
	text(w io.Writer)
}

// usageError is a mistake in how the command was called: exit code 2.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// Main runs the starter with args (without the program name). The command tree
// above is run by cobra (cobra.go), which gives it --help, completion and
// suggestions.
func Main(ctx context.Context, args []string, io IO) int {
	if io.Stdin == nil {
		io.Stdin = os.Stdin
	}
	return execute(ctx, root(), args, io)
}

// runLeaf runs one command with its parsed flags and positional arguments, prints
// its result or error, and returns the exit code.
func runLeaf(ctx context.Context, cmd *command, fs *flag.FlagSet, name string, args []string, io IO, asJSON bool) int {
	e := &env{io: io}
	defer e.close()
	res, err := cmd.run(ctx, e, fs, args)
	if err != nil {
		code := ExitFailed
		var u usageError
		if errors.As(err, &u) {
			code = ExitUsage
		}
		text := operatorMessage(err, io.Stderr) // no raw SQLSTATE or driver text
		if asJSON {
			writeJSONError(io.Stdout, text, res)
		}
		msg := fmt.Sprintf("%s: %s", name, text)
		if code == ExitUsage {
			msg += fmt.Sprintf(" (run '%s --help')", name)
		}
		fmt.Fprintln(io.Stderr, msg)
		return code
	}
	if res != nil {
		if asJSON {
			writeJSON(io.Stdout, res)
		} else {
			res.text(io.Stdout)
		}
	}
	return ExitOK
}

// needArgs checks the number of positional arguments.
func needArgs(args []string, names ...string) error {
	if len(args) < len(names) {
		return usagef("missing %s", strings.Join(names[len(args):], ", "))
	}
	if len(args) > len(names) {
		return usagef("unexpected argument %q", args[len(names)])
	}
	return nil
}
