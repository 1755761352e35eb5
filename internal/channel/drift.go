package channel

import (
	"fmt"
	"strings"
	"time"
)

// driftIntervalSetting is drift-interval: how often the worker compares the shop
// with the hub (docs/channel-semantics.md §9); 0 turns the schedule off. Each
// comparison reads every product page and the orders of a week, so it is at least
// an hour apart.
func driftIntervalSetting() Setting {
	return intervalOrOff("drift-interval", "Drift comparison interval", "24h", time.Hour, 30*24*time.Hour,
		func(s *Settings) *time.Duration { return &s.DriftInterval })
}

// listingRefreshIntervalSetting is listing-refresh-interval: how often the worker
// reads the products EKM modified since the last listing download or refresh
// (docs/channel-semantics.md §9); 0 turns the schedule off. A refresh that finds
// nothing costs one request, so it may come every few minutes.
func listingRefreshIntervalSetting() Setting {
	return intervalOrOff("listing-refresh-interval", "Listing refresh interval", "1h", 5*time.Minute, 24*time.Hour,
		func(s *Settings) *time.Duration { return &s.ListingRefreshInterval })
}

// intervalOrOff is a setting of a scheduled job's interval: 0 (or off) turns it
// off, else a duration from least to most in whole seconds.
func intervalOrOff(key, title, example string, least, most time.Duration, field func(*Settings) *time.Duration) Setting {
	help := fmt.Sprintf("0 (off) or a duration such as %s, from %s to %s in whole seconds", example, least, most)
	return Setting{Key: key, Title: title, Help: help,
		get: func(s Settings) string {
			if d := *field(&s); d != 0 {
				return d.String()
			}
			return "0"
		},
		set: func(s *Settings, v string) error {
			v = strings.TrimSpace(v)
			if v == "0" || v == "off" {
				*field(s) = 0
				return nil
			}
			d, err := time.ParseDuration(v)
			if err != nil || d < least || d > most || d%time.Second != 0 {
				return fmt.Errorf("%s", help)
			}
			*field(s) = d
			return nil
		}}
}
