package order

import (
	"encoding/json"
	"testing"
	"time"
)

// The OData filters EKM gets: dates as datetime literals with seven fractional
// digits in UTC, the window folding the last_updated pass in, ids joined by or.
func TestFiltersSpellEKMsOData(t *testing.T) {
	at := time.Date(2026, 12, 3, 14, 0, 0, 500, time.FixedZone("CET", 3600))
	up := at.Add(time.Hour)
	for _, c := range []struct{ got, want string }{
		{WindowFilter(at, nil), "order_date ge datetime'2026-12-03T13:00:00.0000005Z'"},
		{WindowFilter(at, &up), "(order_date ge datetime'2026-12-03T13:00:00.0000005Z' or last_updated ge datetime'2026-12-03T14:00:00.0000005Z')"},
		{RangeFilter(at, up), "(order_date ge datetime'2026-12-03T13:00:00.0000005Z' and order_date lt datetime'2026-12-03T14:00:00.0000005Z')"},
		{IDFilter([]int64{3, 14}), "id eq 3 or id eq 14"},
		{Cursor{Date: at, ID: 7}.After(), "(order_date gt datetime'2026-12-03T13:00:00.0000005Z' or (order_date eq datetime'2026-12-03T13:00:00.0000005Z' and id gt 7))"},
	} {
		if c.got != c.want {
			t.Errorf("got  %s\nwant %s", c.got, c.want)
		}
	}
}

// A cursor follows another in (order_date, id) order, and a raw order tells its
// position even when it is malformed elsewhere.
func TestCursorOrderAndPositionOfARawOrder(t *testing.T) {
	at := time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC)
	if !(Cursor{at, 2}).Follows(Cursor{at, 1}) || (Cursor{at, 1}).Follows(Cursor{at, 1}) || !(Cursor{at.Add(time.Second), 1}).Follows(Cursor{at, 9}) {
		t.Error("cursor order is not (order_date, id)")
	}
	k, ok := KeyOf(json.RawMessage(`{"id": 5, "order_date": "2026-12-03T14:00:00Z", "total_cost": "not a number"}`))
	if !ok || k.ID != 5 || !k.Date.Equal(at) {
		t.Errorf("KeyOf = %+v, %v", k, ok)
	}
	if _, ok := KeyOf(json.RawMessage(`{"id": 5}`)); ok {
		t.Error("an order without a date has no position")
	}
}
