// Package workflows holds ekmsync's Temporal workflows: ListingDownload, OrderSync,
// OrderBackfill and ChannelPush. Workflow code is deterministic: it reads the clock,
// sleeps and branches only through the workflow API, and leaves all I/O to activities.
//
// This file names everything an operator or another package refers to: the task
// queue, workflow IDs, search attributes, and the names of signals, queries and updates.
package workflows

import (
	"go.temporal.io/sdk/temporal"
)

// TaskQueue is the one task queue every ekmsync workflow and activity runs on.
const TaskQueue = "ekmsync"

// Workflow ID helpers: readable, derived from the channel, so that starting a flow
// that already runs finds the running one (WorkflowIDConflictPolicy USE_EXISTING).

// ListingDownloadID is the workflow ID of a channel's listing download.
func ListingDownloadID(channel string) string { return "listing-download:" + channel }

// ListingScheduleID is the ID of the Temporal Schedule that starts a channel's
// listing download every listing interval.
func ListingScheduleID(channel string) string { return "listing-download-schedule:" + channel }

// OrderSyncID is the workflow ID of a channel's order-sync loop.
func OrderSyncID(channel string) string { return "order-sync:" + channel }

// ChannelPushID is the workflow ID of a channel's outbound push loop.
func ChannelPushID(channel string) string { return "channel-push:" + channel }

// OrderBackfillID is the workflow ID of a back-fill; the range makes a repeated
// request for the same range find the running one.
func OrderBackfillID(channel, what string) string { return "order-backfill:" + channel + ":" + what }

// Custom search attributes (docs/architecture.md): operators filter on them in the Web UI.
// Every name carries the Ekm prefix, so that they cannot clash with another
// application's in a shared cluster.
var (
	// SAChannel is the channel a workflow belongs to.
	SAChannel = temporal.NewSearchAttributeKeyKeyword("EkmChannel")
	// SAChannelState is the channel's state: ok, disabled, needs-reauth or misconfigured.
	SAChannelState = temporal.NewSearchAttributeKeyKeyword("EkmChannelState")
	// SAListingInProgress is true while a listing download runs.
	SAListingInProgress = temporal.NewSearchAttributeKeyBool("EkmListingDownloadInProgress")
	// SAListingStartTime is when the current or last listing download started.
	SAListingStartTime = temporal.NewSearchAttributeKeyTime("EkmListingDownloadStartTime")
	// SAListingETA is the current listing download's estimated completion.
	SAListingETA = temporal.NewSearchAttributeKeyTime("EkmListingDownloadEstimatedCompletion")
	// SAOrderSyncDate is the channel's Order Sync Date [UTC].
	SAOrderSyncDate = temporal.NewSearchAttributeKeyTime("EkmOrderSyncDate")
)

// SearchAttribute describes one custom search attribute for registration.
type SearchAttribute struct {
	// Name is the attribute's name, e.g. EkmChannel.
	Name string
	// Type is the Temporal CLI's type name: Keyword, Bool or Datetime.
	Type string
}

// SearchAttributes lists every custom search attribute, for 'starter setup' and the
// dev server's --search-attribute flags.
var SearchAttributes = []SearchAttribute{
	{SAChannel.GetName(), "Keyword"},
	{SAChannelState.GetName(), "Keyword"},
	{SAListingInProgress.GetName(), "Bool"},
	{SAListingStartTime.GetName(), "Datetime"},
	{SAListingETA.GetName(), "Datetime"},
	{SAOrderSyncDate.GetName(), "Datetime"},
}

// LegacySearchAttributes are the names ekmsync used before every name carried the
// Ekm prefix. 'starter setup' reports them, so that an operator can remove them (and
// free their SQL visibility slots) once no loop runs with the old code.
var LegacySearchAttributes = []string{
	"ListingDownloadInProgress", "ListingDownloadStartTime", "ListingDownloadEstimatedCompletion", "OrderSyncDate",
}

// Signal, query and update names.
const (
	// SignalWake asks a loop to re-read its channel and run now (hub changes,
	// enable, reauthorise).
	SignalWake = "wake"
	// SignalOrderHint carries an EKM order id from a webhook: the order is fetched by id.
	SignalOrderHint = "order-hint"
	// QueryProgress returns a listing download's progress.
	QueryProgress = "progress"
	// QueryStatus returns a loop's status.
	QueryStatus = "status"
	// UpdateSyncNow runs an order sync at once and returns what it did.
	UpdateSyncNow = "sync-now"
	// UpdatePushNow runs a push at once and returns what it did.
	UpdatePushNow = "push-now"
)

// OrderHint is the payload of SignalOrderHint: an EKM order id from a webhook,
// alone, so that nothing a caller sends can grow the loop's history (older
// histories that carried the topic still decode: unknown fields are ignored).
type OrderHint struct {
	OrderID int64 `json:"order_id"`
}

// Workflow type names, as registered on the worker. Starting by name keeps the
// starter free of workflow code.
const (
	ListingDownloadWorkflow          = "ListingDownload"
	ScheduledListingDownloadWorkflow = "ScheduledListingDownload"
	OrderSyncWorkflow                = "OrderSync"
	OrderBackfillWorkflow            = "OrderBackfill"
	ChannelPushWorkflow              = "ChannelPush"
)

// ChannelInput is the input of the per-channel workflows when they start: only the
// channel's name. Settings are read from the hub at every step, and secrets never
// travel through Temporal.
type ChannelInput struct {
	Channel string `json:"channel"`
}
