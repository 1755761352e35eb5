package channel

import (
	"strings"
	"testing"
	"time"
)

func TestApplyValidatesAndNamesTheSetting(t *testing.T) {
	s := testSettings()
	cases := []struct {
		change  Change
		wantErr string
	}{
		{Change{"currency", "XYZ"}, "currency: \"XYZ\" is not valid: want an ISO 4217"},
		{Change{"stock-percentage", "101"}, "stock-percentage"},
		{Change{"stock-percentage", "-1"}, "from 0 to 100"},
		{Change{"max-listed", "-3"}, "max-listed"},
		{Change{"end-when", "1.5"}, "end-when"},
		{Change{"despatch-notes", "maybe"}, "on or off"},
		{Change{"status:Nonexistent", "paid"}, "does not exist in the shop"},
		{Change{"status:Pending", "sold"}, "Unmapped, Paid, Unpaid, Shipped, Cancelled"},
		{Change{"colour", "red"}, "unknown setting \"colour\""},
		{Change{"order-sync-interval", "1s"}, "at least 1m0s"},
		{Change{"api-base-url", "ftp://x"}, "http(s)"},
	}
	for _, c := range cases {
		_, _, err := Apply(s, []Change{c.change})
		if err == nil || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("%v: err = %v, want it to contain %q", c.change, err, c.wantErr)
		}
	}
}

func TestApplyIsAllOrNothing(t *testing.T) {
	s := testSettings()
	got, applied, err := Apply(s, []Change{{"max-listed", "5"}, {"currency", "nope"}})
	if err == nil {
		t.Fatal("bad batch accepted")
	}
	if applied != nil || got.MaxListed != s.MaxListed {
		t.Fatalf("a rejected batch changed something: %+v %v", got.MaxListed, applied)
	}
	if s.Mapping["Pending"] != Unpaid {
		t.Fatal("the input's mapping was modified")
	}
}

func TestApplyRecordsOldAndNew(t *testing.T) {
	s := testSettings()
	next, applied, err := Apply(s, []Change{
		{"currency", "eur"}, {"stock-percentage", "80"}, {"status:pending", "paid"},
		{"max-listed", "0"}, // unchanged: not recorded
		{"stock-locations", "shop, warehouse"}, {"order-sync-interval", "2m"}, {"enabled", "off"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if next.Currency != "EUR" || next.StockPercentage != 80 || next.Mapping.Target("PENDING") != Paid ||
		strings.Join(next.StockLocations, "|") != "shop|warehouse" || next.OrderSyncInterval != 2*time.Minute || next.Enabled {
		t.Fatalf("next = %+v", next)
	}
	want := []AppliedChange{
		{"currency", "", "EUR"}, {"stock-percentage", "100", "80"}, {"status:Pending", "Unpaid", "Paid"},
		{"stock-locations", "(all)", "shop,warehouse"}, {"order-sync-interval", "5m0s", "2m0s"}, {"enabled", "on", "off"},
	}
	if len(applied) != len(want) {
		t.Fatalf("applied = %+v", applied)
	}
	for i := range want {
		if applied[i] != want[i] {
			t.Errorf("applied[%d] = %+v, want %+v", i, applied[i], want[i])
		}
	}
}

func TestParseCurrency(t *testing.T) {
	for _, ok := range []string{"GBP", "eur", " usd "} {
		if _, err := ParseCurrency(ok); err != nil {
			t.Errorf("%q rejected", ok)
		}
	}
	for _, bad := range []string{"", "GB", "GBPP", "ABC", "£"} {
		if _, err := ParseCurrency(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
