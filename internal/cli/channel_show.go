package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/present"
	"github.com/ekmsync/ekmsync/internal/store"
)

// channelList is the result of 'channel list'.
type channelList struct {
	Channels []channelSummary `json:"channels"`
}

type channelSummary struct {
	Name          string         `json:"name"`
	Enabled       bool           `json:"enabled"`
	Status        channel.Status `json:"status"`
	Currency      string         `json:"currency"`
	OrderSyncDate *time.Time     `json:"order_sync_date"`
	ListingsBusy  bool           `json:"listing_download_in_progress"`
}

func (r channelList) text(w io.Writer) {
	if len(r.Channels) == 0 {
		fmt.Fprintln(w, "no channels: add one with 'starter channel add'")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tENABLED\tSTATE\tCURRENCY\tORDER SYNC DATE [UTC]\tLISTING DOWNLOAD")
	for _, c := range r.Channels {
		busy := "idle"
		if c.ListingsBusy {
			busy = "in progress"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Name, onOff(c.Enabled), c.Status.State, c.Currency, present.UTC(c.OrderSyncDate), busy)
	}
	_ = tw.Flush()
}

func channelListCommand() *command {
	return &command{
		name: "list", summary: "list the channels with their state",
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			if err := needArgs(args); err != nil {
				return nil, err
			}
			st, err := e.store(ctx)
			if err != nil {
				return nil, err
			}
			list, err := st.Channels(ctx)
			if err != nil {
				return nil, err
			}
			res := channelList{Channels: []channelSummary{}}
			for _, c := range list {
				sync, err := st.OrderSync(ctx, c.ID)
				if err != nil {
					return nil, err
				}
				ld, err := st.ListingDownload(ctx, c.ID)
				if err != nil {
					return nil, err
				}
				res.Channels = append(res.Channels, channelSummary{Name: c.Name, Enabled: c.Enabled, Status: c.Status(),
					Currency: c.Currency, OrderSyncDate: sync.SyncDate, ListingsBusy: ld.InProgress})
			}
			return res, nil
		},
	}
}

// channelScreen is the whole channel screen, for 'channel show'.
type channelScreen struct {
	// Loops are the run states of the channel's workflows; LoopsError says why
	// Temporal could not tell them.
	Loops      *loopRuns `json:"loops,omitempty"`
	LoopsError string    `json:"loops_error,omitempty"`

	Channel         channel.Settings           `json:"channel"`
	Status          channel.Status             `json:"status"`
	Settings        []settingValue             `json:"settings"`
	OrderSyncDate   *time.Time                 `json:"order_sync_date"`
	ListingDownload store.ListingDownloadState `json:"listing_download"`
	LastErrors      []store.ChannelError       `json:"last_errors"`
	// Webhook is the URL the channel subscribed with, its token redacted.
	Webhook store.WebhookState `json:"webhook"`
	// Token is the refresh token's last use and the date EKM lets it lapse.
	Token store.TokenLife `json:"token"`
	// Drift is the last drift comparison (docs/channel-semantics.md §9), if any.
	Drift *store.DriftRun `json:"drift,omitempty"`
	// Refresh is the listing refresh between downloads: its last run and cursor.
	Refresh store.ListingRefresh `json:"listing_refresh"`
}

type settingValue struct {
	Key   string `json:"setting"`
	Title string `json:"title"`
	Value string `json:"value"`
}

func (r channelScreen) text(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Channel\t%s\n", r.Channel.Name)
	state := string(r.Status.State)
	if r.Status.Reason != "" {
		state += ": " + r.Status.Reason
	}
	fmt.Fprintf(tw, "State\t%s\n", state)
	auth := string(r.Channel.AuthState)
	if r.Channel.ShopUsername != "" {
		auth += " (shop " + r.Channel.ShopUsername + ")"
	}
	fmt.Fprintf(tw, "Authorisation\t%s\n", auth)
	for _, s := range r.Settings {
		fmt.Fprintf(tw, "%s\t%s\n", s.Title, s.Value)
	}
	fmt.Fprintf(tw, "Order Sync Date [UTC]\t%s\n", present.UTC(r.OrderSyncDate))
	fmt.Fprintf(tw, "Last drift comparison\t%s\n", driftLine(r.Channel.Name, r.Drift))
	if l := r.Loops; l != nil {
		fmt.Fprintf(tw, "Order sync loop\t%s\n", l.OrderSync.runLine())
		fmt.Fprintf(tw, "Push loop\t%s\n", l.Push.runLine())
		fmt.Fprintf(tw, "Listing download run\t%s\n", l.ListingDownload.runLine())
	} else {
		fmt.Fprintf(tw, "Loops\t%s\n", r.LoopsError)
	}
	ld := r.ListingDownload
	fmt.Fprintf(tw, "Listing Download in Progress\t%s\n", yesNo(ld.InProgress))
	fmt.Fprintf(tw, "Listing Download Start Time\t%s\n", present.UTC(ld.StartTime))
	fmt.Fprintf(tw, "Listing Download Completion Time\t%s\n", present.UTC(ld.CompletionTime))
	eta := "unknown"
	if !ld.InProgress {
		eta = "-"
	} else if ld.EstimatedCompletion != nil {
		eta = present.UTC(ld.EstimatedCompletion)
	}
	fmt.Fprintf(tw, "Listing Download Estimated Completion\t%s\n", eta)
	fmt.Fprintf(tw, "Last listing refresh\t%s\n", refreshLine(r.Channel.Name, r.Refresh))
	fmt.Fprintf(tw, "Webhook URL\t%s\n", webhookLine(r.Webhook))
	fmt.Fprintf(tw, "Refresh Token Last Used [UTC]\t%s\n", present.UTC(r.Token.LastUsed))
	fmt.Fprintf(tw, "Refresh Token Lapses [UTC]\t%s\n", lapseLine(r.Channel, r.Token))
	_ = tw.Flush()
	printMapping(w, r.Channel)
	printDeliveryMapping(w, r.Channel)
	if len(r.LastErrors) > 0 {
		fmt.Fprintln(w, "Last errors:")
		for _, e := range r.LastErrors {
			fmt.Fprintf(w, "  %s  [%s] %s\n", e.At.UTC().Format(time.DateTime), e.Flow, e.Message)
		}
	}
}

// lapseLine says when EKM lets the refresh token lapse, and whether the keep-alive
// renews it before then.
func lapseLine(c channel.Settings, l store.TokenLife) string {
	switch {
	case l.LapsesAt == nil:
		return "- (never authorised)"
	case c.AuthState != channel.AuthOK:
		return present.UTC(l.LapsesAt) + " (the channel needs reauthorisation)"
	case l.KeepAlive:
		return present.UTC(l.LapsesAt) + " (the keep-alive renews it once 7 days unused)"
	}
	return present.UTC(l.LapsesAt) + " (token-keepalive is off: unless the channel calls EKM, reauthorise after that)"
}

// webhookLine says where EKM posts the channel's order webhooks, token redacted.
func webhookLine(w store.WebhookState) string {
	switch {
	case w.URL != "":
		return w.URL + " (subscribed " + present.UTC(w.SubscribedAt) + ")"
	case w.HasToken:
		return "not subscribed (set EKMSYNC_WEBHOOK_BASE_URL, then 'starter channel reauthorise')"
	}
	return "no token yet (the worker makes one at its next start, or 'starter channel reauthorise')"
}

func printMapping(w io.Writer, s channel.Settings) {
	fmt.Fprintln(w, "Order Status Mapping:")
	statuses := append([]string(nil), s.ShopStatuses...)
	for k := range s.Mapping {
		found := false
		for _, st := range statuses {
			found = found || strings.EqualFold(st, k)
		}
		if !found {
			statuses = append(statuses, k)
		}
	}
	if len(statuses) == 0 {
		fmt.Fprintln(w, "  (none: the shop's statuses were not read yet)")
	}
	for _, st := range statuses {
		fmt.Fprintf(w, "  %-20s -> %s\n", st, s.Mapping.Target(st).Title())
	}
}

// printDeliveryMapping lists the delivery-method mapping, sorted by EKM method.
func printDeliveryMapping(w io.Writer, s channel.Settings) {
	fmt.Fprintln(w, "Delivery Method Mapping:")
	if len(s.DeliveryMap) == 0 {
		fmt.Fprintf(w, "  (none: methods are not mapped; map one with 'starter channel set %s delivery:<EKM method>=<hub service>')\n", s.Name)
	}
	for _, m := range slices.Sorted(maps.Keys(s.DeliveryMap)) {
		fmt.Fprintf(w, "  %-20s -> %s\n", m, s.DeliveryMap[m])
	}
}

func channelShowCommand() *command {
	return &command{
		name: "show", args: "<name>", summary: "show the whole channel screen: settings, mapping, sync date, listing download, auth, webhook URL, last errors",
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			if err := needArgs(args, "<name>"); err != nil {
				return nil, err
			}
			st, err := e.store(ctx)
			if err != nil {
				return nil, err
			}
			scr, err := loadScreen(ctx, st, args[0])
			if err != nil {
				return nil, err
			}
			scr.Loops, scr.LoopsError = e.channelLoops(ctx, scr.Channel.Name)
			return scr, nil
		},
	}
}

func loadScreen(ctx context.Context, st *store.Store, name string) (channelScreen, error) {
	c, err := st.Channel(ctx, name)
	if err != nil {
		return channelScreen{}, err
	}
	scr := channelScreen{Channel: c, Status: c.Status()}
	for _, d := range channel.Registry {
		scr.Settings = append(scr.Settings, settingValue{Key: d.Key, Title: d.Title, Value: d.Get(c)})
	}
	if scr.Drift, err = st.DriftRunOf(ctx, c.ID); err != nil {
		return scr, err
	}
	sync, err := st.OrderSync(ctx, c.ID)
	if err != nil {
		return scr, err
	}
	scr.OrderSyncDate = sync.SyncDate
	if scr.ListingDownload, err = st.ListingDownload(ctx, c.ID); err != nil {
		return scr, err
	}
	if scr.Refresh, err = st.ListingRefreshOf(ctx, c.ID); err != nil {
		return scr, err
	}
	if scr.Webhook, err = st.WebhookState(ctx, c.ID); err != nil {
		return scr, err
	}
	if scr.Token, err = st.TokenLife(ctx, c.ID); err != nil {
		return scr, err
	}
	if scr.LastErrors, err = st.RecentErrors(ctx, c.ID, 5); err != nil {
		return scr, err
	}
	if scr.LastErrors == nil {
		scr.LastErrors = []store.ChannelError{}
	}
	return scr, nil
}
