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
	const least, most = time.Hour, 30 * 24 * time.Hour
	help := fmt.Sprintf("0 (off) or a duration such as 24h, from %s to %s in whole seconds", least, most)
	return Setting{Key: "drift-interval", Title: "Drift comparison interval", Help: help,
		get: func(s Settings) string {
			if s.DriftInterval == 0 {
				return "0"
			}
			return s.DriftInterval.String()
		},
		set: func(s *Settings, v string) error {
			v = strings.TrimSpace(v)
			if v == "0" || v == "off" {
				s.DriftInterval = 0
				return nil
			}
			d, err := time.ParseDuration(v)
			if err != nil || d < least || d > most || d%time.Second != 0 {
				return fmt.Errorf("%s", help)
			}
			s.DriftInterval = d
			return nil
		}}
}
