package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ekmsync/ekmsync/internal/present"
	"github.com/ekmsync/ekmsync/internal/store"
)

// orderOutboundCommands change orders in the hub; the channel's push loop then
// sends the change to EKM. <order> is the hub order id (e.g. 42) or
// <channel>:<EKM order id> (e.g. shop:10017).
func orderOutboundCommands() []*command {
	return []*command{orderShipCommand(), orderCancelCommand()}
}

// parcelFlags collects parcels from repeatable flags: each --tracking starts a
// parcel, and --carrier and --tracking-url fill the parcel started last.
type parcelFlags struct{ parcels []store.Parcel }

func (p *parcelFlags) last() *store.Parcel {
	if len(p.parcels) == 0 {
		p.parcels = append(p.parcels, store.Parcel{})
	}
	return &p.parcels[len(p.parcels)-1]
}

// parcelField is one of parcelFlags' flags.
type parcelField struct {
	p   *parcelFlags
	set func(p *parcelFlags, v string)
}

func (f parcelField) String() string     { return "" }
func (f parcelField) Set(v string) error { f.set(f.p, strings.TrimSpace(v)); return nil }

type shipResult struct {
	store.ShipResult
	Next string `json:"next"`
}

func (r shipResult) text(w io.Writer) {
	o := r.Order
	if !r.Changed {
		fmt.Fprintf(w, "order %d (%s, %s:%d) was already shipped: nothing changed\n", o.ID, o.OrderNumber, o.Channel, o.EKMOrderID)
	} else {
		fmt.Fprintf(w, "order %d (%s, %s:%d) shipped\n", o.ID, o.OrderNumber, o.Channel, o.EKMOrderID)
	}
	for _, p := range r.Parcels {
		fmt.Fprintf(w, "  parcel %d: %s %s %s\n", p.Parcel, present.OrDash(p.Carrier), present.OrDash(p.TrackingNumber), p.TrackingURL)
	}
	fmt.Fprintln(w, r.Next)
}

func orderShipCommand() *command {
	var pf parcelFlags
	return &command{
		name: "ship", args: "<order>",
		summary: "mark an order shipped in the hub, with its parcels; the push sends the first tracking number and the\n" +
			"status mapped to Shipped to EKM, and the other parcels' tracking into the order's internal notes.\n" +
			"<order> is the hub order id or <channel>:<EKM order id>. Each --tracking starts a parcel; --carrier and\n" +
			"--tracking-url apply to the parcel started last.",
		flags: func(fs *flag.FlagSet) {
			pf = parcelFlags{}
			fs.Var(parcelField{&pf, func(p *parcelFlags, v string) { p.parcels = append(p.parcels, store.Parcel{TrackingNumber: v}) }},
				"tracking", "tracking number of a parcel (repeatable: one per parcel)")
			fs.Var(parcelField{&pf, func(p *parcelFlags, v string) { p.last().Carrier = v }}, "carrier", "carrier of the parcel, e.g. 'Royal Mail'")
			fs.Var(parcelField{&pf, func(p *parcelFlags, v string) { p.last().TrackingURL = v }}, "tracking-url", "tracking URL of the parcel")
		},
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			ref, err := orderArg(args)
			if err != nil {
				return nil, err
			}
			st, err := e.store(ctx)
			if err != nil {
				return nil, err
			}
			res, err := st.ShipOrder(ctx, ref, pf.parcels, actor())
			if err != nil {
				return nil, err
			}
			if res.Changed {
				e.wakePush(ctx, res.Order.Channel)
			}
			return shipResult{ShipResult: res, Next: "follow it with 'starter push status " + res.Order.Channel + "'"}, nil
		},
	}
}

// orderArg reads the one <order> argument.
func orderArg(args []string) (store.OrderRef, error) {
	if err := needArgs(args, "<order>"); err != nil {
		return store.OrderRef{}, err
	}
	ref, err := store.ParseOrderRef(args[0])
	if err != nil {
		return ref, usagef("%v", err)
	}
	return ref, nil
}

type cancelResult struct {
	store.CancelResult
	Sent string `json:"sent_to_ekm"`
}

func (r cancelResult) text(w io.Writer) {
	o := r.Order
	what := "cancelled"
	if !r.Full {
		what = "partly cancelled"
	}
	if !r.Changed {
		what = "was already cancelled: nothing changed"
	}
	fmt.Fprintf(w, "order %d (%s, %s:%d) %s\n", o.ID, o.OrderNumber, o.Channel, o.EKMOrderID, what)
	for _, l := range r.Lines {
		fmt.Fprintf(w, "  line #%d %s: %d of %d cancelled\n", l.ItemID, present.OrDash(l.SKU), l.CancelledQuantity, l.Quantity)
	}
	fmt.Fprintln(w, r.Sent)
}

func orderCancelCommand() *command {
	var lines multiFlag
	return &command{
		name: "cancel", args: "<order>",
		summary: "cancel an order in the hub, in full or some lines. A full cancellation is sent to EKM as the status\n" +
			"mapped to Cancelled; a partial one is recorded as not sent (EKM has no line cancel). Cancelling every\n" +
			"remaining unit of every line is a full cancellation. <order> is the hub order id or <channel>:<EKM order id>.",
		flags: func(fs *flag.FlagSet) {
			lines = nil
			fs.Var(&lines, "lines", "lines to cancel, comma-separated: SKU, SKU:QTY, or #<EKM item id>[:QTY] when SKUs repeat\n"+
				"(QTY defaults to all that is left; repeatable)")
		},
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			ref, err := orderArg(args)
			if err != nil {
				return nil, err
			}
			reqs, err := parseLineCancels(lines)
			if err != nil {
				return nil, usagef("%v", err)
			}
			st, err := e.store(ctx)
			if err != nil {
				return nil, err
			}
			res, err := st.CancelOrder(ctx, ref, reqs, actor())
			if err != nil {
				return nil, err
			}
			if res.Changed {
				e.wakePush(ctx, res.Order.Channel)
			}
			sent := "the push sends the cancellation to EKM (see 'starter push status " + res.Order.Channel + "')"
			if !res.Full {
				sent = "not sent to EKM: EKM has no line cancel, so a partial cancellation is recorded as not sent"
			}
			return cancelResult{CancelResult: res, Sent: sent}, nil
		},
	}
}

// parseLineCancels reads --lines values: "SKU", "SKU:QTY", "#ID", "#ID:QTY".
func parseLineCancels(values []string) ([]store.LineCancel, error) {
	var out []store.LineCancel
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			lc := store.LineCancel{Line: item}
			if i := strings.LastIndex(item, ":"); i > 0 {
				n, err := strconv.Atoi(item[i+1:])
				if err != nil || n < 1 {
					return nil, fmt.Errorf("--lines %q: the quantity after ':' must be a whole number of 1 or more", item)
				}
				lc = store.LineCancel{Line: item[:i], Quantity: n}
			}
			out = append(out, lc)
		}
	}
	if len(values) > 0 && len(out) == 0 {
		return nil, errors.New("--lines names no line")
	}
	return out, nil
}
