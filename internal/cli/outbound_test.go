package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/ekmsync/ekmsync/internal/config"
	"github.com/ekmsync/ekmsync/internal/store"
)

// Usage mistakes in the outbound commands exit 2 with a message that names the
// problem, before anything is opened (no database is needed here).
func TestOutboundCommandsRefuseBadArguments(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"orders", "ship"}, "missing <order>"},
		{[]string{"orders", "ship", "1/2/3"}, "neither a hub order id"},
		{[]string{"orders", "cancel", "shop:x"}, "neither a hub order id"},
		{[]string{"orders", "cancel", "42", "--lines", "A:0"}, "whole number of 1 or more"},
		{[]string{"orders", "cancel", "42", "--lines", ","}, "names no line"},
		{[]string{"stock", "set", "A"}, "missing <level>"},
		{[]string{"stock", "set", "A", "many"}, "not a whole number"},
		{[]string{"price", "set", "A", "--", "-1"}, "non-negative amount"},
		{[]string{"stock", "set", "A", "-2147483649"}, "not a whole number"}, // a negative level is an argument, checked like any
		{[]string{"price", "set", "A", "1.234"}, "at most two decimals"},
		{[]string{"push", "status"}, "missing <channel>"},
		{[]string{"push", "now"}, "missing <channel>"},
		{[]string{"push", "status", "shop", "--limit", "0"}, "--limit must be 1 or more"},
	}
	for _, tc := range cases {
		var out, errOut bytes.Buffer
		code := Main(context.Background(), tc.args, IO{Stdout: &out, Stderr: &errOut, Config: &config.Starter{}})
		if code != ExitUsage || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("starter %s: exit %d, stderr %q; want exit 2 naming %q", strings.Join(tc.args, " "), code, errOut.String(), tc.want)
		}
	}
}

func TestParcelFlagsStartAParcelAtEachTracking(t *testing.T) {
	var pf parcelFlags
	track := parcelField{&pf, func(p *parcelFlags, v string) { p.parcels = append(p.parcels, store.Parcel{TrackingNumber: v}) }}
	carrier := parcelField{&pf, func(p *parcelFlags, v string) { p.last().Carrier = v }}
	for _, step := range []struct {
		f parcelField
		v string
	}{{track, "RM1"}, {carrier, "Royal Mail"}, {track, "DPD2"}, {carrier, " DPD "}} {
		_ = step.f.Set(step.v)
	}
	if len(pf.parcels) != 2 || pf.parcels[0].Carrier != "Royal Mail" || pf.parcels[1].TrackingNumber != "DPD2" || pf.parcels[1].Carrier != "DPD" {
		t.Fatalf("parcels = %+v", pf.parcels)
	}
}
