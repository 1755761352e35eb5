package workflows

import (
	"go.temporal.io/sdk/temporal"
)

// initialAttributes are the search attributes a per-channel workflow starts with.
func initialAttributes(channel string) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(SAChannel.ValueSet(channel))
}
