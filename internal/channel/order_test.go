package channel

import (
	"testing"
	"time"
)

func testSettings() Settings {
	s := Defaults()
	s.Name = "shop"
	s.Enabled = true
	s.AuthState = AuthOK
	s.ShopStatuses = []string{"Pending", "Processing", "Dispatched", "Complete", "Failed", "Declined", "Refunded", "Awaiting Stock"}
	s.Mapping = Mapping{"Pending": Unpaid, "Processing": Paid, "Dispatched": Shipped, "Complete": Paid,
		"Failed": Cancelled, "Declined": Cancelled, "Refunded": Cancelled, "Awaiting Stock": Unmapped}
	return s
}

func TestDecideOrder(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	recent, old := now.Add(-2*24*time.Hour), now.Add(-8*24*time.Hour)
	exactly7 := now.Add(-CancelledMaxAge)
	cases := []struct {
		name           string
		status         string
		paid, unpaidOn bool
		date           time.Time
		inHub          bool
		want           Action
		wantPaid       bool
		wantParked     bool
		wantStatus     string
	}{
		{"paid status, paid", "PROCESSING", true, false, recent, false, ActionStore, true, false, "open"},
		{"paid status, not paid, unpaid off", "PROCESSING", false, false, recent, false, ActionSkip, false, false, ""},
		{"paid status, not paid, unpaid on", "PROCESSING", false, true, recent, false, ActionStore, false, true, "open"},
		{"unpaid status, paid by EKM still unpaid target, unpaid off", "PENDING", true, false, recent, false, ActionSkip, false, false, ""},
		{"unpaid status, unpaid on", "PENDING", false, true, recent, false, ActionStore, false, true, "open"},
		{"unpaid status in hub is refreshed", "PENDING", false, false, recent, true, ActionStore, false, false, ""},
		{"unmapped, paid", "AWAITING STOCK", true, false, recent, false, ActionStore, true, false, "open"},
		{"unmapped, not paid, unpaid on: still skipped", "AWAITING STOCK", false, true, recent, false, ActionSkip, false, false, ""},
		{"status missing from mapping is unmapped", "MYSTERY", true, false, recent, false, ActionStore, true, false, "open"},
		{"shipped, new", "DISPATCHED", true, false, recent, false, ActionSkip, false, false, ""},
		{"shipped, in hub", "DISPATCHED", true, false, recent, true, ActionShip, false, false, ""},
		{"cancelled, recent", "DECLINED", false, false, recent, false, ActionStore, false, false, "cancelled"},
		{"cancelled, paid and recent keeps paid", "REFUNDED", true, false, recent, false, ActionStore, true, false, "cancelled"},
		{"cancelled, 8 days old", "FAILED", false, false, old, false, ActionSkip, false, false, ""},
		{"cancelled, exactly 7 days old", "FAILED", false, false, exactly7, false, ActionSkip, false, false, ""},
		{"cancelled, old but in hub flips", "FAILED", true, false, old, true, ActionCancel, false, false, ""},
		{"lower-case status matches", "processing", true, false, recent, false, ActionStore, true, false, "open"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := testSettings()
			s.DownloadUnpaid = c.unpaidOn
			d := s.DecideOrder(OrderFacts{Status: c.status, Paid: c.paid, OrderDate: c.date, Now: now, InHub: c.inHub, HubStatus: "open"})
			if d.Action != c.want || d.Paid != c.wantPaid || d.Parked != c.wantParked || d.Status != c.wantStatus {
				t.Fatalf("got %+v, want action %s paid %v parked %v status %q", d, c.want, c.wantPaid, c.wantParked, c.wantStatus)
			}
			if d.Action == ActionSkip && d.Reason == "" {
				t.Fatal("a skip must say why")
			}
		})
	}
}

func TestStatus(t *testing.T) {
	s := testSettings()
	if st := s.Status(); st.State != StateOK {
		t.Fatalf("configured channel: %+v", st)
	}
	s.Enabled = false
	if st := s.Status(); st.State != StateDisabled || st.Reason == "" {
		t.Fatalf("disabled: %+v", st)
	}
	s = testSettings()
	s.AuthState = AuthNeedsReauth
	if st := s.Status(); st.State != StateNeedsReauth {
		t.Fatalf("needs reauth: %+v", st)
	}
	s = testSettings()
	s.Mapping = Mapping{"Pending": Unpaid, "Dispatched": Shipped}
	if st := s.Status(); st.State != StateMisconfigured {
		t.Fatalf("no Paid, unpaid download off: %+v", st)
	}
	s.DownloadUnpaid = true
	if st := s.Status(); st.State != StateOK {
		t.Fatalf("Unpaid mapped with unpaid download on: %+v", st)
	}
	s.Mapping = Mapping{"Dispatched": Shipped}
	if st := s.Status(); st.State != StateMisconfigured {
		t.Fatalf("neither Paid nor Unpaid: %+v", st)
	}
}

func TestHolds(t *testing.T) {
	s := testSettings()
	if s.DespatchHold() != "" || s.CancellationHold() != "" {
		t.Fatal("configured channel holds outbound work")
	}
	s.DespatchNotes = false
	if s.DespatchHold() == "" {
		t.Fatal("Despatch Notes off does not hold")
	}
	s = testSettings()
	delete(s.Mapping, "Dispatched")
	if s.DespatchHold() == "" {
		t.Fatal("no Shipped status does not hold")
	}
	s.CancellationNotes = false
	if s.CancellationHold() == "" {
		t.Fatal("Cancellation Notes off does not hold")
	}
}

func TestMappingStatusForIsUppercaseAndStable(t *testing.T) {
	m := Mapping{"Refunded": Cancelled, "Declined": Cancelled, "Dispatched": Shipped}
	if s, ok := m.StatusFor(Cancelled); !ok || s != "DECLINED" {
		t.Fatalf("StatusFor(Cancelled) = %q, %v", s, ok)
	}
	if _, ok := m.StatusFor(Paid); ok {
		t.Fatal("StatusFor(Paid) found one")
	}
}

func TestDefaultMapping(t *testing.T) {
	m := DefaultMapping([]string{"Pending", "Processing", "Dispatched", "Complete", "Failed", "Declined", "Refunded", "Awaiting Stock"})
	want := map[string]Target{"Pending": Unpaid, "Processing": Paid, "Dispatched": Shipped, "Complete": Paid,
		"Failed": Cancelled, "Declined": Cancelled, "Refunded": Cancelled, "Awaiting Stock": Unmapped}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s -> %s, want %s", k, m[k], v)
		}
	}
}
