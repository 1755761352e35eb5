package workflows

import (
	"go.temporal.io/sdk/temporal"
)

// InitialAttributes are the search attributes a per-channel workflow starts with.
func InitialAttributes(channel string) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(SAChannel.ValueSet(channel))
}
