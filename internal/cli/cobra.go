package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ekmsync/ekmsync/internal/config"
)

// The command tree (command, in cli.go) is run by cobra, the library of the
// temporal CLI, kubectl and gh: --flag style help, shell completion and
// suggestions for mistyped commands come with it. Each command keeps declaring its
// flags on a Go flag.FlagSet, which cobra's flag set takes over (AddGoFlagSet): the
// values it parses are the Go flags' own.

// exitCode is what a leaf's run ended with, once it has printed its result or
// error itself.
type exitCode int

func (c exitCode) Error() string { return fmt.Sprintf("exit %d", int(c)) }

// outputFlags are the root's persistent output flags: -o, --output and its alias
// --json.
type outputFlags struct {
	format string
	json   bool
}

// asJSON says whether the result is JSON; an unknown format is a usage error.
func (o *outputFlags) asJSON() (bool, error) {
	switch o.format {
	case "text":
		return o.json, nil
	case "json":
		return true, nil
	}
	return false, usagef("--output must be text or json, not %q", shortArg(o.format))
}

func init() {
	cobra.EnableCommandSorting = false // the tree's order: set-up first, then the daily commands
	// shortText keeps a summary's further lines in the description column of a
	// command list (cobra's template prints Short on one line).
	cobra.AddTemplateFunc("shortText", func(c *cobra.Command) string {
		return strings.ReplaceAll(c.Short, "\n", "\n"+strings.Repeat(" ", c.NamePadding()+3))
	})
	// environment lists the configuration, at the end of the root's usage.
	cobra.AddTemplateFunc("environment", func() string {
		var b strings.Builder
		_ = config.Usage(&b, &config.Starter{})
		return strings.TrimRight(b.String(), "\n")
	})
}

// usageTemplate is cobra's, with multi-line summaries, and groups shown as taking a
// command.
const usageTemplate = `Usage:
  {{if .HasAvailableSubCommands}}{{.CommandPath}} <command> [flags]{{else}}{{.UseLine}}{{end}}{{if .HasAvailableSubCommands}}

Commands:{{range .Commands}}{{if (or .IsAvailableCommand (eq .Name "help"))}}
  {{rpad .Name .NamePadding }} {{shortText .}}{{end}}{{end}}{{end}}{{if .HasAvailableLocalFlags}}

Flags:
{{.LocalFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{if .HasAvailableInheritedFlags}}

Global Flags:
{{.InheritedFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{if .HasAvailableSubCommands}}

Run '{{.CommandPath}} <command> --help' for a command's arguments and flags.{{end}}{{if not .HasParent}}

Configured by these environment variables:
{{environment}}{{end}}
`

// newCobra builds the cobra tree of root for one run.
func newCobra(root *command, io IO) *cobra.Command {
	out := &outputFlags{}
	c := cobraCommand(root, io, out)
	c.SilenceErrors, c.SilenceUsage = true, true
	c.SetIn(io.Stdin)
	c.SetOut(io.Stdout)
	c.SetErr(io.Stderr)
	c.SetUsageTemplate(usageTemplate)
	c.PersistentFlags().StringVarP(&out.format, "output", "o", "text", "`format` of the result: text or json")
	c.PersistentFlags().BoolVar(&out.json, "json", false, "print the result as JSON (the same as -o json)")
	_ = c.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	c.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err.Error()} })
	// cobra's completion command (bash, zsh, fish and powershell) is a group like ours.
	c.InitDefaultCompletionCmd()
	for _, sub := range c.Commands() {
		if sub.Name() == "completion" {
			sub.Args, sub.RunE, sub.SuggestionsMinimumDistance = cobra.ArbitraryArgs, groupRun(io), 2
		}
	}
	return c
}

// cobraCommand turns a node of the command tree into a cobra command.
func cobraCommand(cmd *command, io IO, out *outputFlags) *cobra.Command {
	c := &cobra.Command{
		Use:   strings.TrimSpace(cmd.name + " " + cmd.args),
		Short: cmd.summary,
		Long:  cmd.summary,
		Args:  cobra.ArbitraryArgs, // each run checks its own (needArgs)
		// cobra suggests only on the root; the groups' RunE asks it directly.
		SuggestionsMinimumDistance: 2,
	}
	if len(cmd.subs) > 0 {
		for _, sub := range cmd.subs {
			c.AddCommand(cobraCommand(sub, io, out))
		}
		c.RunE = groupRun(io)
		return c
	}
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	if cmd.flags != nil {
		cmd.flags(fs)
	}
	c.Flags().AddGoFlagSet(fs)
	c.RunE = func(c *cobra.Command, args []string) error {
		asJSON, err := out.asJSON()
		if err != nil {
			return err
		}
		return exitCode(runLeaf(c.Context(), cmd, fs, c.CommandPath(), restoreNegatives(args), io, asJSON))
	}
	if takesChannel(cmd) {
		c.ValidArgsFunction = func(c *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return channelNames(c.Context(), io, toComplete), cobra.ShellCompDirectiveNoFileComp
		}
	}
	return c
}

// groupRun runs a group, which happens only when no subcommand matched: without
// one, its usage goes to stderr; a mistyped one gets a suggestion. Both exit 2.
func groupRun(io IO) func(c *cobra.Command, args []string) error {
	return func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			c.SetOut(io.Stderr)
			_ = c.Usage()
			return exitCode(ExitUsage)
		}
		msg := fmt.Sprintf("unknown command %q", restoreNegatives(args)[0])
		if s := c.SuggestionsFor(args[0]); len(s) > 0 {
			msg += "; did you mean " + strings.Join(s, " or ") + "?"
		}
		return usageError{msg}
	}
}

// takesChannel says whether a command's first argument is an existing channel's
// name ('channel add' names a new one).
func takesChannel(cmd *command) bool {
	return strings.HasPrefix(cmd.args, "<channel>") || (strings.HasPrefix(cmd.args, "<name>") && cmd.name != "add")
}

// channelNames lists the hub's channels for completion. Completion must not talk:
// an unreachable or unconfigured database gives no names, quietly and soon.
func channelNames(ctx context.Context, io IO, prefix string) []string {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	io.Stderr = discard{}
	e := &env{io: io}
	defer e.close()
	st, err := e.store(ctx)
	if err != nil {
		return nil
	}
	channels, err := st.Channels(ctx)
	if err != nil {
		return nil
	}
	var names []string
	for _, c := range channels {
		if strings.HasPrefix(c.Name, prefix) {
			names = append(names, c.Name)
		}
	}
	return names
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// execute runs args through the cobra tree of root and returns the exit code.
func execute(ctx context.Context, root *command, args []string, io IO) int {
	c := newCobra(root, io)
	c.SetArgs(protectNegatives(c, args))
	ran, err := c.ExecuteContextC(ctx)
	var code exitCode
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &code):
		return int(code)
	}
	// Anything else is cobra's or the flags' refusal of the command line: a usage
	// error, on stderr, with where to read the usage (never the usage itself).
	path := ran.CommandPath()
	fmt.Fprintf(io.Stderr, "%s: %s (run '%s --help')\n", path, restoreText(err.Error()), path)
	return ExitUsage
}

// Negative numbers: a command may document one as an argument ('stock set SKU -5').
// pflag would take "-5" for a shorthand flag, so a bare negative number that is not
// the value of the flag before it is hidden behind a marker for the parse, and
// restored in the arguments the command gets.
var negativeNumber = regexp.MustCompile(`^-[0-9]+(\.[0-9]+)?$`)

const negativeMark = "\x00neg:"

func protectNegatives(root *cobra.Command, args []string) []string {
	if len(args) > 0 && strings.HasPrefix(args[0], "__complete") {
		return args // cobra's completion requests carry the words as typed
	}
	target, _, err := root.Find(args)
	if err != nil {
		target = root
	}
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if a == "--" {
			copy(out[i:], args[i:])
			break
		}
		if negativeNumber.MatchString(a) && (i == 0 || !takesValue(target, args[i-1])) {
			out[i] = negativeMark + a
		}
	}
	return out
}

// takesValue says whether arg is a flag that takes the next argument as its value.
func takesValue(c *cobra.Command, arg string) bool {
	var f *pflag.Flag
	switch {
	case strings.HasPrefix(arg, "--") && !strings.Contains(arg, "="):
		f = lookupFlag(c, func(fs *pflag.FlagSet) *pflag.Flag { return fs.Lookup(arg[2:]) })
	case strings.HasPrefix(arg, "-") && len(arg) == 2:
		f = lookupFlag(c, func(fs *pflag.FlagSet) *pflag.Flag { return fs.ShorthandLookup(arg[1:]) })
	}
	return f != nil && f.NoOptDefVal == ""
}

func lookupFlag(c *cobra.Command, find func(*pflag.FlagSet) *pflag.Flag) *pflag.Flag {
	for ; c != nil; c = c.Parent() {
		for _, fs := range []*pflag.FlagSet{c.Flags(), c.PersistentFlags()} {
			if f := find(fs); f != nil {
				return f
			}
		}
	}
	return nil
}

func restoreNegatives(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = strings.TrimPrefix(a, negativeMark)
	}
	return out
}

func restoreText(s string) string { return strings.ReplaceAll(s, negativeMark, "") }
