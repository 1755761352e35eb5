// Package cli is the operator's command line, 'starter': every command takes --json
// for scripts and exits 0 when it worked, 1 when the operation failed and 2 on a
// usage error. The starter binary is a thin main around Main, so tests drive the
// very same code.
package cli

import (
	"context"
	"encoding/json"
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
	flags   func(fs *flag.FlagSet) // declares the command's own flags
	run     func(ctx context.Context, e *env, fs *flag.FlagSet, args []string) (result, error)
	subs    []*command
}

// result is what a command produced: JSON with --json, text otherwise.
type result interface {
	text(w io.Writer)
}

// usageError is a mistake in how the command was called: exit code 2.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// Main runs the starter with args (without the program name).
func Main(ctx context.Context, args []string, io IO) int {
	if io.Stdin == nil {
		io.Stdin = os.Stdin
	}
	return dispatch(ctx, root(), []string{"starter"}, args, io)
}

func dispatch(ctx context.Context, cmd *command, path, args []string, io IO) int {
	if len(cmd.subs) > 0 {
		if len(args) == 0 || isHelp(args[0]) {
			printGroupHelp(io.Stdout, cmd, path)
			if len(args) == 0 {
				return ExitUsage
			}
			return ExitOK
		}
		for _, sub := range cmd.subs {
			if sub.name == args[0] {
				return dispatch(ctx, sub, append(path, sub.name), args[1:], io)
			}
		}
		fmt.Fprintf(io.Stderr, "%s: unknown command %q (run '%s --help')\n", strings.Join(path, " "), args[0], strings.Join(path, " "))
		return ExitUsage
	}
	return runLeaf(ctx, cmd, path, args, io)
}

func runLeaf(ctx context.Context, cmd *command, path, args []string, io IO) int {
	name := strings.Join(path, " ")
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if cmd.flags != nil {
		cmd.flags(fs)
	}
	fs.Usage = func() {
		fmt.Fprintf(io.Stdout, "usage: %s %s [flags]\n\n%s\n\nflags:\n", name, cmd.args, cmd.summary)
		fs.SetOutput(io.Stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Stderr)
	}
	positional, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	if err != nil {
		return ExitUsage // flag has printed the problem
	}
	e := &env{io: io}
	defer e.close()
	res, err := cmd.run(ctx, e, fs, positional)
	if err != nil {
		code := ExitFailed
		var u usageError
		if errors.As(err, &u) {
			code = ExitUsage
		}
		text := operatorMessage(err, io.Stderr) // no raw SQLSTATE or driver text
		if *asJSON {
			writeJSON(io.Stdout, map[string]any{"error": text})
		}
		msg := fmt.Sprintf("%s: %s", name, text)
		if code == ExitUsage {
			msg += fmt.Sprintf(" (run '%s --help')", name)
		}
		fmt.Fprintln(io.Stderr, msg)
		return code
	}
	if res != nil {
		if *asJSON {
			writeJSON(io.Stdout, res)
		} else {
			res.text(io.Stdout)
		}
	}
	return ExitOK
}

// parseInterspersed lets flags come before, between or after positional arguments
// ("starter channel show shop --json"); "--" ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if len(args) > 0 && len(rest) < len(args) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

func isHelp(s string) bool { return s == "-h" || s == "--help" || s == "-help" || s == "help" }

func printGroupHelp(w io.Writer, cmd *command, path []string) {
	fmt.Fprintf(w, "usage: %s <command> [arguments] [--json]\n\n", strings.Join(path, " "))
	if cmd.summary != "" {
		fmt.Fprintf(w, "%s\n\n", cmd.summary)
	}
	fmt.Fprintln(w, "commands:")
	for _, s := range cmd.subs {
		// A summary's further lines stay in the description column.
		fmt.Fprintf(w, "  %-14s %s\n", s.name, strings.ReplaceAll(s.summary, "\n", "\n"+strings.Repeat(" ", 17)))
	}
	fmt.Fprintf(w, "\nRun '%s <command> --help' for a command's arguments and flags.\n", strings.Join(path, " "))
	if len(path) == 1 {
		fmt.Fprintln(w, "\nConfigured by these environment variables:")
		_ = config.Usage(w, &config.Starter{})
	}
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
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
