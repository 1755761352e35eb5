package cli

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/ekmsync/ekmsync/internal/store"
)

// unmappedDelivery lists the orders flagged with an unmapped delivery method, never nil.
func unmappedDelivery(ctx context.Context, st *store.Store, channelID int64, limit int) ([]store.UnmappedDelivery, error) {
	list, err := st.UnmappedDeliveries(ctx, channelID, limit)
	if list == nil {
		list = []store.UnmappedDelivery{}
	}
	return list, err
}

// printUnmappedDelivery is the 'orders problems' section of orders whose EKM
// delivery method maps to no hub service, with the command that maps one.
func printUnmappedDelivery(w io.Writer, ch string, list []store.UnmappedDelivery) {
	if len(list) == 0 {
		fmt.Fprintln(w, "no orders with an unmapped delivery method")
		return
	}
	fmt.Fprintf(w, "%d orders whose delivery method maps to no hub service (stored without one; map it with 'starter channel set %s delivery:<EKM method>=<hub service>', which re-maps the open ones):\n", len(list), ch)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  EKM ORDER\tNUMBER\tDATE [UTC]\tSTATUS\tEKM DELIVERY METHOD")
	for _, o := range list {
		method := o.DeliveryMethod
		if method == "" {
			method = "(none)"
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\n", o.EKMOrderID, o.OrderNumber, o.OrderDate.UTC().Format(time.DateTime), o.Status, method)
	}
	_ = tw.Flush()
}
