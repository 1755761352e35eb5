package service

import (
	"encoding/json"
	"slices"
	"testing"
)

// Each payload the triggers send names the channels it wakes (0: every channel).
func TestChangePayloadsNameTheirChannels(t *testing.T) {
	for payload, want := range map[string][]int64{
		`{"table" : "stock_levels", "channel_ids" : [3,7]}`: {3, 7},
		`{"table" : "channels", "channel_id" : 4}`:          {4},
		`{"table" : "stock_levels", "channel_id" : null}`:   {0},
		`{"table" : "listing_links"}`:                       {0},
		`{"table" : "prices", "channel_ids" : []}`:          {},
	} {
		var c change
		if err := json.Unmarshal([]byte(payload), &c); err != nil {
			t.Fatal(err)
		}
		if got := c.channels(); !slices.Equal(got, want) {
			t.Errorf("%s wakes %v, want %v", payload, got, want)
		}
	}
}
