package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/present"
	"github.com/ekmsync/ekmsync/internal/shop"
	"github.com/ekmsync/ekmsync/internal/store"
)

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
					changes := []channel.AppliedChange{{Key: "shop-statuses", Old: strings.Join(cur.ShopStatuses, ", "), New: strings.Join(info.statuses, ", ")}}
					if len(cur.ShopStatuses) == 0 && cur.Currency != info.currency {
						// 'channel add' stopped before it read the shop: its currency was a
						// placeholder, so the shop's applies (the operator may set another).
						changes = append(changes, channel.AppliedChange{Key: "currency", Old: cur.Currency, New: info.currency})
						cur.Currency = info.currency
					}
					cur.ShopStatuses = info.statuses
					return cur, changes, nil
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
		return "EKM rejected the client id or secret (bad client secret?): store the right one with 'starter channel reauthorise <name> --client-secret-file F'"
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
	Authorization shop.Authorization `json:"authorisation"`
	Warnings      []string           `json:"warnings,omitempty"`
}

func (r reauthResult) text(w io.Writer) {
	fmt.Fprintf(w, "channel %s authorised (shop %s); its workflows resume by themselves\n", r.Channel, present.OrDash(r.Authorization.ShopUsername))
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
}

func channelReauthoriseCommand() *command {
	var headless bool
	var timeout time.Duration
	var secretFile string
	return &command{
		name: "reauthorise", args: "<name>",
		summary: "run EKM's OAuth flow again (authorisation URL, local callback, code exchange) and store the new tokens;\n" +
			"with EKMSYNC_WEBHOOK_BASE_URL set, re-subscribe the order webhooks under a new webhook token (the old URL is refused);\n" +
			"--client-secret-file first replaces the app's client secret (after a change on partners.ekm.net)",
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&headless, "headless", false, "open the authorisation URL without a browser (simulator auto-approve)")
			fs.DurationVar(&timeout, "timeout", 10*time.Minute, "how long to wait for EKM's callback")
			fs.StringVar(&secretFile, "client-secret-file", "", "file holding a new client secret to store first")
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
			if secretFile != "" {
				newSecret, err := readClientSecret(e, secretFile)
				if err != nil {
					return nil, err
				}
				if err := st.SetClientSecret(ctx, conn.Key, c.ID, newSecret); err != nil {
					return nil, err
				}
				if err := st.Audit(ctx, store.AuditEntry{ChannelID: c.ID, Channel: c.Name, Actor: actor(), Action: "setting.changed",
					Subject: "client-secret", OldValue: "(sealed)", NewValue: "(sealed)"}); err != nil {
					return nil, err
				}
			}
			auth, err := conn.Authorize(ctx, c, shop.AuthorizeOptions{CallbackAddr: mustCallback(e), Headless: headless, Timeout: timeout, ShowURL: e.showURL(headless)})
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
