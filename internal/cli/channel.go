package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/shop"
	"github.com/ekmsync/ekmsync/internal/store"
)

func channelCommand() *command {
	return &command{
		name:    "channel",
		summary: "add, inspect, configure and authorise EKM channels",
		subs: []*command{
			channelAddCommand(), channelListCommand(), channelShowCommand(), channelSetCommand(),
			channelToggleCommand(true), channelToggleCommand(false), channelTestCommand(),
			channelReauthoriseCommand(), channelRemoveCommand(),
		},
	}
}

// connector returns the starter's connection to EKM. The starter's calls are the
// operator's (add, test, reauthorise): they pass the Enabled gate.
func (e *env) connector(ctx context.Context) (*shop.Connector, *store.Store, error) {
	st, err := e.store(ctx)
	if err != nil {
		return nil, nil, err
	}
	key, err := e.key()
	if err != nil {
		return nil, nil, err
	}
	return &shop.Connector{Store: st, Key: key, HTTP: &http.Client{Timeout: 60 * time.Second}, IgnoreGate: true}, st, nil
}

type addedChannel struct {
	Channel       channel.Settings    `json:"channel"`
	Authorization *shop.Authorization `json:"authorization,omitempty"`
	Flows         []string            `json:"workflows,omitempty"`
	Warnings      []string            `json:"warnings,omitempty"`
}

func (r addedChannel) text(w io.Writer) {
	fmt.Fprintf(w, "channel %s added (disabled); currency %s\n", r.Channel.Name, r.Channel.Currency)
	printMapping(w, r.Channel)
	for _, f := range r.Flows {
		fmt.Fprintf(w, "workflow %s is running (idle until the channel is enabled)\n", f)
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
	fmt.Fprintf(w, "next: 'starter channel enable %s'\n", r.Channel.Name)
}

func channelAddCommand() *command {
	var apiURL, clientID, secretFile, redirect, currency string
	var maps multiFlag
	var yes, headless bool
	var timeout time.Duration
	return &command{
		name: "add", args: "<name>",
		summary: "add a channel: authorise it with EKM, read the shop's statuses and currency, and confirm the status mapping.\n" +
			"The client secret is read from --client-secret-file, or from $EKMSYNC_CLIENT_SECRET, or prompted for.",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&apiURL, "api-url", ekm.DefaultBaseURL, "EKM API base URL")
			fs.StringVar(&clientID, "client-id", "", "the app's client id from partners.ekm.net (required)")
			fs.StringVar(&secretFile, "client-secret-file", "", "file holding the app's client secret")
			fs.StringVar(&redirect, "redirect-url", "http://127.0.0.1:8765/callback", "the app's Return URL, served locally during authorisation")
			fs.StringVar(&currency, "currency", "", "ISO 4217 currency for downloaded orders (default: the shop's)")
			fs.Var(&maps, "map", "status mapping override, 'EKM status=target' (repeatable)")
			fs.BoolVar(&yes, "yes", false, "accept the proposed status mapping without asking")
			fs.BoolVar(&headless, "headless", false, "open the authorize URL without a browser (simulator auto-approve)")
			fs.DurationVar(&timeout, "timeout", 10*time.Minute, "how long to wait for EKM's callback")
		},
		run: func(ctx context.Context, e *env, fs *flag.FlagSet, args []string) (result, error) {
			if err := needArgs(args, "<name>"); err != nil {
				return nil, err
			}
			if clientID == "" {
				return nil, usagef("--client-id is required")
			}
			s := channel.Defaults()
			s.Name = strings.TrimSpace(args[0])
			if err := channel.ValidateName(s.Name); err != nil {
				return nil, usagef("%v", err)
			}
			initial := []channel.Change{{Key: "api-base-url", Value: apiURL}, {Key: "redirect-url", Value: redirect}, {Key: "client-id", Value: clientID}}
			if currency != "" {
				initial = append(initial, channel.Change{Key: "currency", Value: currency})
			}
			s, _, err := channel.Apply(s, initial)
			if err != nil {
				return nil, usagef("%v", err)
			}
			// Check what can be checked before anything is created.
			for _, o := range maps {
				status, target, ok := strings.Cut(o, "=")
				if !ok || strings.TrimSpace(status) == "" {
					return nil, usagef("--map %q: want 'EKM status=target'", o)
				}
				if _, err := channel.ParseTarget(target); err != nil {
					return nil, usagef("--map %q: %v", o, err)
				}
			}
			secretValue, err := readClientSecret(e, secretFile)
			if err != nil {
				return nil, err
			}
			conn, st, err := e.connector(ctx)
			if err != nil {
				return nil, err
			}
			if s.Currency == "" {
				s.Currency = "GBP" // placeholder until the shop's is read below; the column is NOT NULL
			}
			created, err := st.CreateChannel(ctx, s, func(id int64) []byte { return store.SealClientSecret(conn.Key, id, secretValue) }, actor())
			if err != nil {
				return nil, err
			}
			res := addedChannel{}
			// From here on the channel exists: a failure leaves it for 'channel reauthorise'.
			auth, err := conn.Authorize(ctx, created, shop.AuthorizeOptions{CallbackAddr: mustCallback(e), Headless: headless, Timeout: timeout, ShowURL: e.showURL})
			if err != nil {
				return nil, fmt.Errorf("channel %s was added, but not authorised: %w; finish with 'starter channel reauthorise %s'", s.Name, err, s.Name)
			}
			res.Authorization = &auth
			shopInfo, err := readShop(ctx, conn, created)
			if err != nil {
				return nil, fmt.Errorf("channel %s was added and authorised, but the shop's settings could not be read: %w; run 'starter channel test %s'", s.Name, err, s.Name)
			}
			changes := []channel.Change{}
			if currency == "" {
				changes = append(changes, channel.Change{Key: "currency", Value: shopInfo.currency})
			}
			mapping, err := confirmMapping(e, shopInfo.statuses, maps, yes)
			if err != nil {
				var u usageError
				if errors.As(err, &u) {
					return nil, usagef("channel %s was added and authorised, but its mapping was not set: %v; set it with 'starter channel set %s status:<EKM status>=<target>'", s.Name, u.msg, s.Name)
				}
				return nil, fmt.Errorf("channel %s was added and authorised, but %w", s.Name, err)
			}
			for _, status := range shopInfo.statuses {
				changes = append(changes, channel.Change{Key: channel.StatusKeyPrefix + status, Value: string(mapping.Target(status))})
			}
			final, _, err := st.UpdateChannel(ctx, s.Name, actor(), func(cur channel.Settings) (channel.Settings, []channel.AppliedChange, error) {
				cur.ShopStatuses = shopInfo.statuses
				return channel.Apply(cur, changes)
			})
			if err != nil {
				return nil, err
			}
			res.Channel = final
			res.Flows, err = e.ensureFlows(ctx, final)
			if err != nil {
				res.Warnings = append(res.Warnings, fmt.Sprintf("workflows not started: %v (they start with 'starter channel enable %s' once Temporal is reachable)", err, s.Name))
			}
			if warn := e.subscribeWebhooks(ctx, conn, final); warn != "" {
				res.Warnings = append(res.Warnings, warn)
			}
			return res, nil
		},
	}
}

// readClientSecret reads the secret from a file, $EKMSYNC_CLIENT_SECRET or a prompt,
// never from the command line (it would land in the shell's history).
func readClientSecret(e *env, file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("--client-secret-file: %w", err)
		}
		if strings.TrimSpace(string(b)) == "" {
			return "", usagef("--client-secret-file %s holds no client secret", file)
		}
		return strings.TrimSpace(string(b)), nil
	}
	if v := os.Getenv("EKMSYNC_CLIENT_SECRET"); v != "" {
		return strings.TrimSpace(v), nil
	}
	fmt.Fprint(e.io.Stderr, "client secret: ")
	line, err := bufio.NewReader(e.io.Stdin).ReadString('\n')
	line = strings.TrimSpace(line)
	if line == "" {
		return "", usagef("no client secret: give --client-secret-file or $EKMSYNC_CLIENT_SECRET (%v)", err)
	}
	return line, nil
}

func mustCallback(e *env) string {
	cfg, err := e.config()
	if err != nil {
		return "127.0.0.1:8765"
	}
	return string(cfg.CallbackAddr)
}

// showURL tells the operator where to authorise: on stderr, so that --json output
// stays parseable.
func (e *env) showURL(u string) {
	fmt.Fprintf(e.io.Stderr, "Open this URL in a browser logged in to the EKM shop, and approve:\n  %s\nWaiting for EKM's callback...\n", u)
}

type shopInfo struct {
	currency string
	statuses []string
}

func readShop(ctx context.Context, conn *shop.Connector, s channel.Settings) (shopInfo, error) {
	c, err := conn.Client(ctx, s)
	if err != nil {
		return shopInfo{}, err
	}
	ctx = ekm.WithPriority(ctx, ekm.PriorityOrders)
	cur, err := c.Currency(ctx)
	if err != nil {
		return shopInfo{}, fmt.Errorf("read the shop's currency: %w", err)
	}
	list, err := c.OrderStatuses(ctx)
	if err != nil {
		return shopInfo{}, fmt.Errorf("read the shop's order statuses: %w", err)
	}
	info := shopInfo{currency: cur.CurrencyCode}
	for _, st := range list {
		if st.Name != "" {
			info.statuses = append(info.statuses, st.Name)
		}
	}
	if _, err := channel.ParseCurrency(info.currency); err != nil {
		return info, fmt.Errorf("the shop's currency %q is not an ISO 4217 code: set one with --currency", info.currency)
	}
	return info, nil
}

// confirmMapping proposes the default mapping with the operator's --map overrides,
// and asks the operator to accept or edit it unless --yes.
func confirmMapping(e *env, statuses []string, overrides multiFlag, yes bool) (channel.Mapping, error) {
	m := channel.DefaultMapping(statuses)
	for _, o := range overrides {
		status, target, ok := strings.Cut(o, "=")
		if !ok {
			return nil, usagef("--map %q: want 'EKM status=target'", o)
		}
		t, err := channel.ParseTarget(target)
		if err != nil {
			return nil, usagef("--map %q: %v", o, err)
		}
		found := false
		for _, s := range statuses {
			if strings.EqualFold(s, strings.TrimSpace(status)) {
				m[s], found = t, true
			}
		}
		if !found {
			return nil, usagef("--map %q: the shop has no status %q (its statuses: %s)", o, status, strings.Join(statuses, ", "))
		}
	}
	if yes {
		return m, nil
	}
	in := bufio.NewReader(e.io.Stdin)
	for {
		fmt.Fprintln(e.io.Stderr, "Proposed order status mapping:")
		for _, s := range statuses {
			fmt.Fprintf(e.io.Stderr, "  %-20s -> %s\n", s, m.Target(s).Title())
		}
		fmt.Fprint(e.io.Stderr, "Accept it? [y]es / [e]dit / [n]o (abort): ")
		line, err := in.ReadString('\n')
		switch strings.ToLower(strings.TrimSpace(line)) {
		case "y", "yes", "":
			if err != nil && line == "" {
				return nil, usagef("no answer on stdin: confirm the mapping with --yes (and --map to change it)")
			}
			return m, nil
		case "n", "no":
			return nil, errors.New("the mapping was not accepted: set it with 'starter channel set <name> status:<EKM status>=<target>'")
		case "e", "edit":
			for _, s := range statuses {
				fmt.Fprintf(e.io.Stderr, "  %s [%s]: ", s, m.Target(s).Title())
				ans, _ := in.ReadString('\n')
				if ans = strings.TrimSpace(ans); ans != "" {
					t, err := channel.ParseTarget(ans)
					if err != nil {
						fmt.Fprintf(e.io.Stderr, "  %v; kept %s\n", err, m.Target(s).Title())
						continue
					}
					m[s] = t
				}
			}
		}
	}
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ", ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Name, onOff(c.Enabled), c.Status.State, c.Currency, utc(c.OrderSyncDate), busy)
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
	Channel         channel.Settings           `json:"channel"`
	Status          channel.Status             `json:"status"`
	Settings        []settingValue             `json:"settings"`
	OrderSyncDate   *time.Time                 `json:"order_sync_date"`
	ListingDownload store.ListingDownloadState `json:"listing_download"`
	LastErrors      []store.ChannelError       `json:"last_errors"`
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
	fmt.Fprintf(tw, "Order Sync Date [UTC]\t%s\n", utc(r.OrderSyncDate))
	ld := r.ListingDownload
	fmt.Fprintf(tw, "Listing Download in Progress\t%s\n", yesNo(ld.InProgress))
	fmt.Fprintf(tw, "Listing Download Start Time\t%s\n", utc(ld.StartTime))
	fmt.Fprintf(tw, "Listing Download Completion Time\t%s\n", utc(ld.CompletionTime))
	eta := "unknown"
	if !ld.InProgress {
		eta = "-"
	} else if ld.EstimatedCompletion != nil {
		eta = utc(ld.EstimatedCompletion)
	}
	fmt.Fprintf(tw, "Listing Download Estimated Completion\t%s\n", eta)
	_ = tw.Flush()
	printMapping(w, r.Channel)
	if len(r.LastErrors) > 0 {
		fmt.Fprintln(w, "Last errors:")
		for _, e := range r.LastErrors {
			fmt.Fprintf(w, "  %s  [%s] %s\n", e.At.UTC().Format(time.DateTime), e.Flow, e.Message)
		}
	}
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

func channelShowCommand() *command {
	return &command{
		name: "show", args: "<name>", summary: "show the whole channel screen: settings, mapping, sync date, listing download, auth, last errors",
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			if err := needArgs(args, "<name>"); err != nil {
				return nil, err
			}
			st, err := e.store(ctx)
			if err != nil {
				return nil, err
			}
			return loadScreen(ctx, st, args[0])
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
	sync, err := st.OrderSync(ctx, c.ID)
	if err != nil {
		return scr, err
	}
	scr.OrderSyncDate = sync.SyncDate
	if scr.ListingDownload, err = st.ListingDownload(ctx, c.ID); err != nil {
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

type setResult struct {
	Channel string                  `json:"channel"`
	Changed []channel.AppliedChange `json:"changed"`
	Status  channel.Status          `json:"status"`
}

func (r setResult) text(w io.Writer) {
	if len(r.Changed) == 0 {
		fmt.Fprintf(w, "nothing changed on %s\n", r.Channel)
	}
	for _, c := range r.Changed {
		fmt.Fprintf(w, "%s: %s -> %s\n", c.Key, orDash(c.Old), orDash(c.New))
	}
	if r.Status.State != channel.StateOK {
		fmt.Fprintf(w, "channel state: %s: %s\n", r.Status.State, r.Status.Reason)
	}
}

func channelSetCommand() *command {
	return &command{
		name: "set", args: "<name> <setting>=<value>...",
		summary: "change settings (all or none): " + strings.Join(channel.Keys(), ", ") + ", and status:<EKM status>=<unmapped|paid|unpaid|shipped|cancelled>",
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			if len(args) < 2 {
				return nil, usagef("want a channel name and at least one setting=value")
			}
			var changes []channel.Change
			for _, a := range args[1:] {
				k, v, ok := strings.Cut(a, "=")
				if !ok {
					return nil, usagef("%q: want setting=value", a)
				}
				changes = append(changes, channel.Change{Key: strings.TrimSpace(k), Value: v})
			}
			return setSettings(ctx, e, args[0], changes)
		},
	}
}

func setSettings(ctx context.Context, e *env, name string, changes []channel.Change) (result, error) {
	st, err := e.store(ctx)
	if err != nil {
		return nil, err
	}
	var validation error
	next, applied, err := st.UpdateChannel(ctx, name, actor(), func(cur channel.Settings) (channel.Settings, []channel.AppliedChange, error) {
		n, a, err := channel.Apply(cur, changes)
		validation = err
		return n, a, err
	})
	if validation != nil {
		return nil, usagef("%v", validation)
	}
	if err != nil {
		return nil, err
	}
	if len(applied) > 0 {
		e.afterSettingsChange(ctx, next, applied)
	}
	if applied == nil {
		applied = []channel.AppliedChange{}
	}
	return setResult{Channel: name, Changed: applied, Status: next.Status()}, nil
}

func channelToggleCommand(on bool) *command {
	name, summary := "disable", "stop every EKM call of the channel (pending outbound work is kept)"
	if on {
		name, summary = "enable", "let the channel fetch from and send to EKM"
	}
	return &command{
		name: name, args: "<name>", summary: summary,
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			if err := needArgs(args, "<name>"); err != nil {
				return nil, err
			}
			return setSettings(ctx, e, args[0], []channel.Change{{Key: "enabled", Value: onOff(on)}})
		},
	}
}

type testResult struct {
	Channel  string   `json:"channel"`
	OK       bool     `json:"ok"`
	Reason   string   `json:"reason,omitempty"`
	Currency string   `json:"currency,omitempty"`
	Statuses []string `json:"statuses,omitempty"`
}

func (r testResult) text(w io.Writer) {
	if r.OK {
		fmt.Fprintf(w, "OK: %s answers (currency %s, %d order statuses)\n", r.Channel, r.Currency, len(r.Statuses))
		return
	}
	fmt.Fprintf(w, "FAILED: %s\n", r.Reason)
}

func channelTestCommand() *command {
	return &command{
		name: "test", args: "<name>",
		summary: "check the stored credentials with one cheap call to EKM, and re-read the shop's statuses",
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			if err := needArgs(args, "<name>"); err != nil {
				return nil, err
			}
			conn, st, err := e.connector(ctx)
			if err != nil {
				return nil, err
			}
			c, err := st.Channel(ctx, args[0])
			if err != nil {
				return nil, err
			}
			res := testResult{Channel: c.Name}
			if c.AuthState == channel.AuthUnauthorised {
				res.Reason = "never authorised: run 'starter channel reauthorise " + c.Name + "'"
				return res, errors.New(res.Reason)
			}
			info, err := readShop(ctx, conn, c)
			if err != nil {
				res.Reason = explain(err)
				return res, errors.New(res.Reason)
			}
			res.OK, res.Currency, res.Statuses = true, info.currency, info.statuses
			if strings.Join(info.statuses, "\x00") != strings.Join(c.ShopStatuses, "\x00") {
				_, _, err := st.UpdateChannel(ctx, c.Name, actor(), func(cur channel.Settings) (channel.Settings, []channel.AppliedChange, error) {
					old := strings.Join(cur.ShopStatuses, ", ")
					cur.ShopStatuses = info.statuses
					return cur, []channel.AppliedChange{{Key: "shop-statuses", Old: old, New: strings.Join(info.statuses, ", ")}}, nil
				})
				if err != nil {
					return nil, err
				}
			}
			return res, nil
		},
	}
}

// explain turns an EKM error into the reason an operator can act on.
func explain(err error) string {
	switch ekm.KindOf(err) {
	case ekm.KindInvalidClient:
		return "EKM rejected the client id or secret (bad client secret?): fix it with 'starter channel add' again or the partners site"
	case ekm.KindNeedsReauth:
		return "the refresh token is expired or was revoked: run 'starter channel reauthorise'"
	case ekm.KindForbidden:
		return "a scope is missing: tick it in the app's Required Permissions, then run 'starter channel reauthorise'"
	case ekm.KindUnauthorized:
		return "EKM does not accept the access token: run 'starter channel reauthorise'"
	case ekm.KindRetryable, ekm.KindRateLimited:
		return "EKM is unreachable or failing right now: " + err.Error()
	}
	return err.Error()
}

type reauthResult struct {
	Channel       string             `json:"channel"`
	Authorization shop.Authorization `json:"authorization"`
	Warnings      []string           `json:"warnings,omitempty"`
}

func (r reauthResult) text(w io.Writer) {
	fmt.Fprintf(w, "channel %s authorised (shop %s); its workflows resume by themselves\n", r.Channel, orDash(r.Authorization.ShopUsername))
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
}

func channelReauthoriseCommand() *command {
	var headless bool
	var timeout time.Duration
	return &command{
		name: "reauthorise", args: "<name>",
		summary: "run EKM's OAuth flow again (authorize URL, local callback, code exchange) and store the new tokens",
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&headless, "headless", false, "open the authorize URL without a browser (simulator auto-approve)")
			fs.DurationVar(&timeout, "timeout", 10*time.Minute, "how long to wait for EKM's callback")
		},
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			if err := needArgs(args, "<name>"); err != nil {
				return nil, err
			}
			conn, st, err := e.connector(ctx)
			if err != nil {
				return nil, err
			}
			c, err := st.Channel(ctx, args[0])
			if err != nil {
				return nil, err
			}
			auth, err := conn.Authorize(ctx, c, shop.AuthorizeOptions{CallbackAddr: mustCallback(e), Headless: headless, Timeout: timeout, ShowURL: e.showURL})
			if err != nil {
				return nil, err
			}
			res := reauthResult{Channel: c.Name, Authorization: auth}
			c, _ = st.Channel(ctx, c.Name)
			if warn := e.subscribeWebhooks(ctx, conn, c); warn != "" {
				res.Warnings = append(res.Warnings, warn)
			}
			e.wakeFlows(ctx, c.Name)
			return res, nil
		},
	}
}

type removeResult struct {
	Channel string `json:"channel"`
	Purged  bool   `json:"purged"`
}

func (r removeResult) text(w io.Writer) {
	if r.Purged {
		fmt.Fprintf(w, "channel %s removed and its data deleted\n", r.Channel)
		return
	}
	fmt.Fprintf(w, "channel %s removed; its data is kept (delete it with --purge)\n", r.Channel)
}

func channelRemoveCommand() *command {
	var purge bool
	return &command{
		name: "remove", args: "<name>", summary: "stop the channel's workflows and remove it (its data is kept unless --purge)",
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&purge, "purge", false, "also delete everything downloaded for the channel")
		},
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			if err := needArgs(args, "<name>"); err != nil {
				return nil, err
			}
			st, err := e.store(ctx)
			if err != nil {
				return nil, err
			}
			if err := e.stopFlows(ctx, args[0]); err != nil {
				return nil, fmt.Errorf("stop the workflows of %s: %w (nothing was removed)", args[0], err)
			}
			if err := st.RemoveChannel(ctx, args[0], purge, actor()); err != nil {
				return nil, err
			}
			return removeResult{Channel: args[0], Purged: purge}, nil
		},
	}
}

func actor() string {
	if u := os.Getenv("USER"); u != "" {
		return "cli:" + u
	}
	return "cli"
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func utc(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.DateTime)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
