package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/harness"
)

// Each EKM delivery method maps to the hub's delivery service through 'channel set
// delivery:<method>=<service>'; an order of a method without a mapping is stored
// flagged, without a service, and listed by 'orders problems' until the operator
// maps it, which re-maps it. A payment: mapping is refused with the reason.
func TestDeliveryMethodsMapAndUnmappedOnesAreListed(t *testing.T) {
	h := harness.New(t, harness.Options{Sim: ekmsim.Options{Seed: 7, Products: 5}})
	ctx := context.Background()
	if _, errOut, code := h.CLI("channel", "set", h.Channel, "payment:PayPal=paypal"); code != 2 || !strings.Contains(errOut, "no payment method") {
		t.Fatalf("payment: mapping: exit %d, %q; want a usage error saying EKM's order has no payment method", code, errOut)
	}
	h.MustCLI("channel", "set", h.Channel, "delivery:Royal Mail 1st Class=RM-1ST")
	first, courier := "ROYAL MAIL 1st class", "Courier Next Day"
	mapped := h.Sim.CreateOrder(ekmsim.OrderSpec{Status: "Processing", DeliveryMethod: &first})
	unmapped := h.Sim.CreateOrder(ekmsim.OrderSpec{Status: "Processing", DeliveryMethod: &courier})
	syncNow(t, h)

	type hubDelivery struct {
		method, service string
		flagged         bool
	}
	delivery := func(id int64) hubDelivery {
		t.Helper()
		var d hubDelivery
		var service *string
		if err := h.DB.Pool.QueryRow(ctx, `SELECT COALESCE(ekm_delivery_method, ''), delivery_service, delivery_unmapped
			FROM orders WHERE ekm_order_id = $1`, id).Scan(&d.method, &service, &d.flagged); err != nil {
			t.Fatalf("order %d in the hub: %v", id, err)
		}
		if service != nil {
			d.service = *service
		}
		return d
	}
	if got := delivery(mapped.ID); got != (hubDelivery{first, "RM-1ST", false}) {
		t.Errorf("mapped order: %+v, want EKM's method, service RM-1ST, not flagged", got)
	}
	if got := delivery(unmapped.ID); got != (hubDelivery{courier, "", true}) {
		t.Errorf("unmapped order: %+v, want EKM's method, no service, flagged", got)
	}
	type problems struct {
		UnmappedDelivery []struct {
			EKMOrderID int64  `json:"ekm_order_id"`
			Method     string `json:"ekm_delivery_method"`
		} `json:"unmapped_delivery"`
	}
	var p problems
	h.CLIJSON(&p, "orders", "problems", h.Channel)
	if len(p.UnmappedDelivery) != 1 || p.UnmappedDelivery[0].EKMOrderID != unmapped.ID || p.UnmappedDelivery[0].Method != courier {
		t.Fatalf("orders problems: unmapped delivery %+v, want order %d of %q alone", p.UnmappedDelivery, unmapped.ID, courier)
	}
	if out := h.MustCLI("orders", "problems", h.Channel); !strings.Contains(out, courier) || !strings.Contains(out, "delivery:<EKM method>=<hub service>") {
		t.Errorf("orders problems:\n%s", out)
	}

	h.MustCLI("channel", "set", h.Channel, "delivery:courier next day=DPD")
	if got := delivery(unmapped.ID); got != (hubDelivery{courier, "DPD", false}) {
		t.Errorf("after mapping its method: %+v, want service DPD, no flag", got)
	}
	h.CLIJSON(&p, "orders", "problems", h.Channel)
	if len(p.UnmappedDelivery) != 0 {
		t.Errorf("orders problems after the mapping: %+v, want none", p.UnmappedDelivery)
	}
	var scr struct {
		Channel struct {
			DeliveryMap map[string]string `json:"delivery_mapping"`
		} `json:"channel"`
	}
	h.CLIJSON(&scr, "channel", "show", h.Channel)
	if len(scr.Channel.DeliveryMap) != 2 || scr.Channel.DeliveryMap["Royal Mail 1st Class"] != "RM-1ST" || scr.Channel.DeliveryMap["courier next day"] != "DPD" {
		t.Errorf("channel show --json delivery mapping: %v", scr.Channel.DeliveryMap)
	}
	if out := h.MustCLI("channel", "show", h.Channel); !strings.Contains(out, "Delivery Method Mapping:") || !strings.Contains(out, "-> DPD") {
		t.Errorf("channel show:\n%s", out)
	}
	// Removing a mapping flags the open orders of that method again: no stale service.
	h.MustCLI("channel", "set", h.Channel, "delivery:Courier Next Day=")
	if got := delivery(unmapped.ID); got != (hubDelivery{courier, "", true}) {
		t.Errorf("after removing its mapping: %+v, want no service, flagged", got)
	}
}
