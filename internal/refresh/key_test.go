package refresh

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// A page moves the key to its last product; a product before the key (EKM
// ignoring the filter or its order) and a full page without one readable key are
// errors that say so, never a refresh that loops or skips.
func TestKeyAfterChecksTheSearchsOrder(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	item := func(id int64, at time.Time) json.RawMessage {
		return json.RawMessage(fmt.Sprintf(`{"id":%d,"last_modified":%q}`, id, at.Format(time.RFC3339Nano)))
	}
	k := key{at: t0, id: 5}
	next, err := k.after([]json.RawMessage{item(6, t0), item(2, t0.Add(time.Second)), json.RawMessage(`{"id":"x"}`)})
	if err != nil || next != (key{at: t0.Add(time.Second), id: 2}) {
		t.Fatalf("after = %+v, %v; want the last readable product's key", next, err)
	}
	if _, err := k.after([]json.RawMessage{item(4, t0)}); err == nil || !strings.Contains(err.Error(), "not in the order") {
		t.Errorf("a product at the key's time with a lower id: err %v, want the order refused", err)
	}
	if _, err := k.after([]json.RawMessage{item(9, t0.Add(time.Minute)), item(8, t0.Add(time.Second))}); err == nil {
		t.Error("products out of order were taken")
	}
	full := make([]json.RawMessage, 20)
	for i := range full {
		full[i] = json.RawMessage(`{"name":"no id"}`)
	}
	if _, err := k.after(full); err == nil || !strings.Contains(err.Error(), "cannot move past") {
		t.Errorf("a full page without a readable key: err %v, want an error", err)
	}
	if next, err := k.after(nil); err != nil || next != k {
		t.Errorf("an empty page: %+v, %v; want the key unchanged", next, err)
	}
}
