package contract

// The activities' names: the method names of activities.Activities, under which
// the worker registers them. The workflows call the activities by these names,
// so that they need not import the activities' code (and the hub's behind it);
// recorded histories hold them, so they never change.
const (
	ChannelStatus         = "ChannelStatus"
	OrderSyncConfig       = "OrderSyncConfig"
	SyncOrders            = "SyncOrders"
	BackfillOrders        = "BackfillOrders"
	PushCheck             = "PushCheck"
	PushDespatches        = "PushDespatches"
	PushCancellations     = "PushCancellations"
	PushStock             = "PushStock"
	PushPrices            = "PushPrices"
	BeginListingDownload  = "BeginListingDownload"
	DownloadListingPages  = "DownloadListingPages"
	VerifyUnseenListings  = "VerifyUnseenListings"
	FinishListingDownload = "FinishListingDownload"
	EndListingDownload    = "EndListingDownload"
)

// ActivityNames lists every name above, for the check that each one is an
// activity the worker registers.
var ActivityNames = []string{
	ChannelStatus, OrderSyncConfig, SyncOrders, BackfillOrders,
	PushCheck, PushDespatches, PushCancellations, PushStock, PushPrices,
	BeginListingDownload, DownloadListingPages, VerifyUnseenListings, FinishListingDownload, EndListingDownload,
}
