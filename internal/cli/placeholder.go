package cli

import (
	"context"
	"errors"
	"flag"
)

// notYet is a command whose feature has not landed. PLACEHOLDER: removed once
// every feature group is in.
func notYet(name string) *command {
	return &command{name: name, summary: "not available yet",
		run: func(context.Context, *env, *flag.FlagSet, []string) (result, error) {
			return nil, errors.New("not available yet")
		}}
}
