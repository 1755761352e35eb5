package contract

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// A result says order_sync_date, and one recorded before the rename, with
// sync_date, still decodes with its Order Sync Date and its counts.
func TestSyncOrdersResultHasOneNameForTheOrderSyncDateAndReadsTheOldOne(t *testing.T) {
	at := time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC)
	out, err := json.Marshal(SyncOrdersResult{Channel: "shop", SyncDate: &at, OrderCounts: OrderCounts{New: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"order_sync_date":"2026-12-03T14:00:00Z"`) || strings.Contains(string(out), `"sync_date"`) {
		t.Errorf("encoded %s, want order_sync_date only", out)
	}
	for _, in := range []string{string(out), `{"channel":"shop","new":2,"sync_date":"2026-12-03T14:00:00Z"}`} {
		var r SyncOrdersResult
		if err := json.Unmarshal([]byte(in), &r); err != nil {
			t.Fatal(err)
		}
		if r.Channel != "shop" || r.New != 2 || r.SyncDate == nil || !r.SyncDate.Equal(at) {
			t.Errorf("decoded %s as %+v", in, r)
		}
	}
}
