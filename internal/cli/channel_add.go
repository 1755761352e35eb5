package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/shop"
	"github.com/ekmsync/ekmsync/internal/store"
)

type addedChannel struct {
	Channel       channel.Settings    `json:"channel"`
	Authorization *shop.Authorization `json:"authorisation,omitempty"`
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
	var yes, headless, simulator bool
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
			fs.BoolVar(&headless, "headless", false, "open the authorisation URL without a browser (simulator auto-approve)")
			fs.DurationVar(&timeout, "timeout", 10*time.Minute, "how long to wait for EKM's callback")
			fs.BoolVar(&simulator, "simulator", false, "allow an --api-url other than EKM's (https://api.ekm.net) or a loopback address: a simulator")
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
			if _, err := channel.ModeFor(s.APIBaseURL, simulator); err != nil {
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
			// Bound to the API URL chosen here: the worker sends them nowhere else.
			if err := st.BindCredentials(ctx, conn.Key, created.ID, created.APIBaseURL, simulator, actor()); err != nil {
				return nil, fmt.Errorf("channel %s was added, but its credentials were not bound to %s: %w; bind them with 'starter channel set %s api-base-url=%s'",
					s.Name, created.APIBaseURL, err, s.Name, created.APIBaseURL)
			}
			res := addedChannel{}
			// From here on the channel exists: a failure leaves it for 'channel reauthorise'.
			auth, err := conn.Authorize(ctx, created, shop.AuthorizeOptions{CallbackAddr: mustCallback(e), Headless: headless, Timeout: timeout, ShowURL: e.showURL(headless)})
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
	line, err := readHidden(e.io.Stdin)
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

// showURL returns what tells the operator where to authorise: on stderr, so that
// --json output stays parseable. With --headless the starter opens the URL itself
// (the simulator's auto-approve) and says so instead of asking for a browser.
func (e *env) showURL(headless bool) func(string) {
	if headless {
		return func(u string) {
			fmt.Fprintf(e.io.Stderr, "Opening the authorize URL without a browser (--headless: approved only by a simulator in auto-approve mode):\n  %s\nWaiting for EKM's callback...\n", u)
		}
	}
	return func(u string) {
		fmt.Fprintf(e.io.Stderr, "Open this URL in a browser logged in to the EKM shop, and approve:\n  %s\nWaiting for EKM's callback...\n", u)
	}
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
