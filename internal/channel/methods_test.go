package channel

import (
	"strings"
	"testing"
)

// The delivery rule: no mapping at all maps nothing and flags nothing; with one,
// a method matches case-insensitively, and a method without a mapping (or an
// order without a method) is unmapped, with no service, never a default.
func TestDeliveryService(t *testing.T) {
	off := Defaults()
	if svc, unmapped := off.DeliveryService("Royal Mail"); svc != "" || unmapped {
		t.Errorf("without a mapping: %q, %v; want nothing, not flagged", svc, unmapped)
	}
	s := Defaults()
	s.DeliveryMap = DeliveryMapping{"Royal Mail 1st Class": "RM1"}
	for _, c := range []struct {
		method, svc string
		unmapped    bool
	}{
		{"Royal Mail 1st Class", "RM1", false},
		{" royal mail 1ST class ", "RM1", false},
		{"Courier", "", true},
		{"", "", true},
	} {
		if svc, unmapped := s.DeliveryService(c.method); svc != c.svc || unmapped != c.unmapped {
			t.Errorf("%q: %q, %v; want %q, %v", c.method, svc, unmapped, c.svc, c.unmapped)
		}
	}
}

// delivery: keys set, re-case and remove a mapping (audited as changes); bad
// names and values and any payment: key are refused with the reason, changing nothing.
func TestApplyDeliveryMapping(t *testing.T) {
	s := testSettings()
	next, applied, err := Apply(s, []Change{{"delivery:Royal Mail", "RM1"}, {"DELIVERY:Courier", "DPD"}})
	if err != nil || len(applied) != 2 || next.DeliveryMap["Royal Mail"] != "RM1" || next.DeliveryMap["Courier"] != "DPD" {
		t.Fatalf("set: %v, %+v, %v", next.DeliveryMap, applied, err)
	}
	if len(s.DeliveryMap) != 0 {
		t.Fatalf("Apply changed its input: %v", s.DeliveryMap)
	}
	next, applied, err = Apply(next, []Change{{"delivery:royal mail", "RM2"}, {"delivery:Courier", ""}})
	if err != nil || len(next.DeliveryMap) != 1 || next.DeliveryMap["royal mail"] != "RM2" {
		t.Fatalf("re-set and remove: %v, %v", next.DeliveryMap, err)
	}
	if applied[1] != (AppliedChange{Key: "delivery:Courier", Old: "DPD", New: ""}) {
		t.Errorf("removal audited as %+v", applied[1])
	}
	for _, c := range []Change{{"delivery:", "X"}, {"delivery:a\x00b", "X"}, {"delivery:Courier", "a\nb"},
		{"delivery:Courier", strings.Repeat("x", 201)}, {"payment:PayPal", "paypal"}} {
		if got, applied, err := Apply(next, []Change{c}); err == nil || applied != nil || len(got.DeliveryMap) != 1 {
			t.Errorf("%.40q: %v, %v; want a refusal that changes nothing", c, got.DeliveryMap, err)
		}
	}
}
