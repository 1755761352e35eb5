package order

import (
	"strings"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/store"
)

func settings() channel.Settings {
	s := channel.Defaults()
	s.Name, s.Currency = "shop", "GBP"
	s.ShopStatuses = []string{"Pending", "Processing", "Dispatched"}
	s.Mapping = channel.DefaultMapping(s.ShopStatuses)
	return s
}

// A status the shop does not list is quarantined with what to do; a listed one,
// in any case, is not.
func TestUnknownStatusSaysWhatToDo(t *testing.T) {
	s := settings()
	if why := UnknownStatus(s, "processing"); why != "" {
		t.Errorf("a listed status: %q", why)
	}
	if why := UnknownStatus(s, "WEIRD"); !strings.Contains(why, "starter channel test shop") || !strings.Contains(why, "WEIRD") {
		t.Errorf("an unknown status: %q", why)
	}
	if why := UnknownStatus(s, " "); why == "" {
		t.Error("an empty status is unknown")
	}
}

// An order the hub already has is decided with the hub's copy: a paid order
// EKM now shows dispatched is marked shipped on the channel.
func TestDecideUsesTheHubsCopy(t *testing.T) {
	s := settings()
	now := time.Now()
	o := ekm.Order{ID: 1, Status: "Dispatched", OrderDate: ekm.Time{Time: now.Add(-time.Hour)}}
	if d := Decide(s, o, nil, now); d.Action != channel.ActionSkip {
		t.Errorf("a new dispatched order: %+v, want skipped", d)
	}
	if d := Decide(s, o, &store.OrderState{Status: "open"}, now); d.Action != channel.ActionShip {
		t.Errorf("a dispatched order in the hub: %+v, want shipped on the channel", d)
	}
}

// With Use EKM tax off, the hub's totals are recomputed from the lines; EKM's
// are kept beside them.
func TestRowRecomputesTotalsWithTheHubsRates(t *testing.T) {
	s := settings()
	s.UseEKMTax = false
	rate := 20.0
	o := ekm.Order{ID: 1, OrderNumber: "A1", Status: "Processing", SubTotal: 10, TotalCost: 12}
	items := []ekm.OrderItem{{ID: 9, ProductCode: "SKU", Quantity: 2, ItemPrice: 5}}
	d := channel.OrderDecision{Action: channel.ActionStore, Paid: true, Status: "open"}
	row, lines := Row(s, o, nil, d, items, map[string]*float64{"SKU": &rate})
	if len(lines) != 1 || !lines[0].Linked || row.TaxSource != "hub" || row.EKM.TotalCost != 12 || row.Hub.SubTotal == 0 {
		t.Fatalf("row %+v, lines %+v", row, lines)
	}
	if _, lines := Row(s, o, nil, d, nil, nil); lines != nil {
		t.Error("an order already in the hub gets no lines")
	}
}
