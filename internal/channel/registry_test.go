package channel

import (
	"fmt"
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
		{Change{"order-sync-interval", "1s"}, "from 1m0s to 24h0m0s"},
		{Change{"api-base-url", "ftp://x"}, "http(s)"},
	}
	for _, c := range cases {
		_, _, err := Apply(s, []Change{c.change})
		if err == nil || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("%v: err = %v, want it to contain %q", c.change, err, c.wantErr)
		}
	}
}

// Every setting refuses values outside what the hub can store or what makes sense,
// naming the setting: nothing reaches PostgreSQL to fail there.
func TestApplyRefusesOutOfRangeValuesOfEverySetting(t *testing.T) {
	s := testSettings()
	long := strings.Repeat("x", 3000)
	var many []string
	for i := range 101 {
		many = append(many, fmt.Sprint("loc", i))
	}
	bad := map[string][]string{
		"enabled":                  {"", "2", "maybe"},
		"currency":                 {"", "£££", "GB\x00"},
		"despatch-notes":           {"x"},
		"cancellation-notes":       {"x"},
		"email-on-despatch":        {"x", ""},
		"email-on-cancellation":    {"x", "2"},
		"download-unpaid":          {"x"},
		"use-ekm-tax":              {"x"},
		"prices-include-tax":       {"x"},
		"default-tax-rate":         {"NaN", "nan", "Inf", "+Inf", "-Inf", "-0.5", "100.01", "1e400", "twenty"},
		"update-inventory":         {"x"},
		"max-listed":               {"-1", "2147483648", "9223372036854775807", "1e3", "x"},
		"stock-percentage":         {"-1", "101", "2147483648"},
		"end-when":                 {"-1", "2147483648", "99999999999999999999"},
		"price-change":             {"x"},
		"stock-locations":          {"a,,b", "a\x00b", long, strings.Join(many, ",")},
		"order-sync-interval":      {"59s", "25h", "2562047h", "-5m", "1m0.5s", "x"},
		"order-overlap":            {"-1s", "49h", "1.5s"},
		"listing-interval":         {"59m", "721h"},
		"push-sweep-interval":      {"4s", "61m"},
		"token-keepalive":          {"x", "maybe"},
		"mode":                     {"", "dry-run", "on", "live\x00"},
		"drift-interval":           {"59m", "721h", "-1h", "1h0.5s", "x", ""},
		"listing-refresh-interval": {"4m", "25h", "-1h", "1h0.5s", "x", ""},
		"api-base-url":             {"", "ftp://x", "http://", "https://u:p@api.ekm.net", "https://api.ekm.net/\x00", "https://" + long},
		"redirect-url":             {"", "callback", "https://" + long},
		"client-id":                {"", "  ", "id\x00", "id\nx", long},
	}
	for _, key := range Keys() {
		values, ok := bad[key]
		if !ok {
			t.Errorf("setting %s has no out-of-range cases in this test", key)
			continue
		}
		for _, v := range values {
			got, applied, err := Apply(s, []Change{{key, v}})
			if err == nil || !strings.HasPrefix(err.Error(), key+": ") {
				t.Errorf("%s=%.40q: err = %v, want a refusal that starts with the setting's name", key, v, err)
				continue
			}
			if applied != nil || got.Name != s.Name {
				t.Errorf("%s=%.40q: a refusal returned changes", key, v)
			}
			if len(err.Error()) > 400 {
				t.Errorf("%s: the refusal is %d bytes long: it echoes the value", key, len(err.Error()))
			}
		}
	}
	// The bounds themselves are accepted.
	for _, c := range []Change{{"max-listed", "2147483647"}, {"end-when", "2147483647"}, {"default-tax-rate", "0"},
		{"default-tax-rate", "100"}, {"order-sync-interval", "24h"}, {"order-overlap", "0s"}, {"order-overlap", "48h"},
		{"listing-interval", "720h"}, {"push-sweep-interval", "5s"}, {"push-sweep-interval", "1h"}, {"mode", "Shadow"}, {"mode", " live "}} {
		if _, _, err := Apply(s, []Change{c}); err != nil {
			t.Errorf("%s=%s refused: %v", c.Key, c.Value, err)
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
