package channel

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Setting is one editable setting of the channel screen: how to show it, and how to
// parse and validate a new value. Keys are what 'starter channel set' takes.
type Setting struct {
	Key   string // e.g. "stock-percentage"
	Title string // as on the channel screen, e.g. "Stock Percentage"
	Help  string // what it accepts
	get   func(Settings) string
	set   func(*Settings, string) error
}

// Get returns the setting's current value as text.
func (d Setting) Get(s Settings) string { return d.get(s) }

// StatusKeyPrefix starts the keys that edit the status mapping: "status:Dispatched".
const StatusKeyPrefix = "status:"

// Registry lists every setting that 'channel set' can change, in screen order.
var Registry = []Setting{
	boolSetting("enabled", "Enabled", func(s *Settings) *bool { return &s.Enabled }),
	{Key: "currency", Title: "Currency", Help: "an ISO 4217 code such as GBP or EUR",
		get: func(s Settings) string { return s.Currency },
		set: func(s *Settings, v string) error {
			c, err := ParseCurrency(v)
			s.Currency = c
			return err
		}},
	boolSetting("despatch-notes", "Despatch Notes", func(s *Settings) *bool { return &s.DespatchNotes }),
	boolSetting("cancellation-notes", "Cancellation Notes", func(s *Settings) *bool { return &s.CancellationNotes }),
	boolSetting("email-on-despatch", "E-mail customer on despatch", func(s *Settings) *bool { return &s.EmailOnDespatch }),
	boolSetting("email-on-cancellation", "E-mail customer on cancellation", func(s *Settings) *bool { return &s.EmailOnCancellation }),
	boolSetting("download-unpaid", "Download Unpaid Orders", func(s *Settings) *bool { return &s.DownloadUnpaid }),
	boolSetting("use-ekm-tax", "Use EKM tax settings", func(s *Settings) *bool { return &s.UseEKMTax }),
	boolSetting("prices-include-tax", "Prices include tax", func(s *Settings) *bool { return &s.PricesIncludeTax }),
	{Key: "default-tax-rate", Title: "Default tax rate", Help: "a percentage from 0 to 100, e.g. 20",
		get: func(s Settings) string { return strconv.FormatFloat(s.DefaultTaxRate, 'f', -1, 64) },
		set: func(s *Settings, v string) error {
			f, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), "%"), 64)
			// NaN compares false with everything: it must be refused by name.
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 100 {
				return fmt.Errorf("a percentage from 0 to 100")
			}
			s.DefaultTaxRate = f
			return nil
		}},
	boolSetting("update-inventory", "Update Inventory", func(s *Settings) *bool { return &s.UpdateInventory }),
	intSetting("max-listed", "Max Listed", "a whole number from 0 to 2147483647 (0 or empty: no cap)", 0, math.MaxInt32, func(s *Settings) *int { return &s.MaxListed }),
	intSetting("stock-percentage", "Stock Percentage", "a whole percentage from 0 to 100", 0, 100, func(s *Settings) *int { return &s.StockPercentage }),
	intSetting("end-when", "End When", "a whole number from 0 to 2147483647 (0 or empty: off)", 0, math.MaxInt32, func(s *Settings) *int { return &s.EndWhen }),
	boolSetting("price-change", "Price Change", func(s *Settings) *bool { return &s.PriceChange }),
	{Key: "stock-locations", Title: "Stock locations", Help: "comma-separated hub locations, or empty for all",
		get: func(s Settings) string {
			if s.StockLocations == nil {
				return "(all)"
			}
			return strings.Join(s.StockLocations, ",")
		},
		set: func(s *Settings, v string) error {
			s.StockLocations = nil
			if v = strings.TrimSpace(v); v == "" || v == "(all)" || strings.EqualFold(v, "all") {
				return nil
			}
			for _, loc := range strings.Split(v, ",") {
				if loc = strings.TrimSpace(loc); loc == "" || !printable(loc, maxText) {
					return fmt.Errorf("comma-separated location names, none empty, each at most %d printable characters", maxText)
				}
				if !slices.Contains(s.StockLocations, loc) {
					s.StockLocations = append(s.StockLocations, loc)
				}
			}
			if len(s.StockLocations) > maxLocations {
				return fmt.Errorf("at most %d locations", maxLocations)
			}
			return nil
		}},
	durationSetting("order-sync-interval", "Order sync interval", time.Minute, 24*time.Hour, func(s *Settings) *time.Duration { return &s.OrderSyncInterval }),
	durationSetting("order-overlap", "Order sync overlap", 0, 48*time.Hour, func(s *Settings) *time.Duration { return &s.OrderOverlap }),
	durationSetting("listing-interval", "Listing download interval", time.Hour, 30*24*time.Hour, func(s *Settings) *time.Duration { return &s.ListingInterval }),
	durationSetting("push-sweep-interval", "Push sweep interval", 5*time.Second, time.Hour, func(s *Settings) *time.Duration { return &s.PushSweepInterval }),
	{Key: "mode", Title: "Mode", Help: "live (the push sends to EKM) or shadow (it records what it would send)",
		get: func(s Settings) string { return ModeName(s.Shadow) },
		set: func(s *Settings, v string) error {
			switch strings.ToLower(strings.TrimSpace(v)) {
			case ModeLive:
				s.Shadow = false
			case ModeShadow:
				s.Shadow = true
			default:
				return fmt.Errorf("live or shadow")
			}
			return nil
		}},
	boolSetting("token-keepalive", "Token keep-alive", func(s *Settings) *bool { return &s.TokenKeepAlive }),
	driftIntervalSetting(),
	listingRefreshIntervalSetting(),
	urlSetting("api-base-url", "EKM API base URL", func(s *Settings) *string { return &s.APIBaseURL }),
	urlSetting("redirect-url", "Redirect URL", func(s *Settings) *string { return &s.RedirectURL }),
	{Key: "client-id", Title: "Client ID", Help: "the app's client id from partners.ekm.net",
		get: func(s Settings) string { return s.ClientID },
		set: func(s *Settings, v string) error {
			if strings.TrimSpace(v) == "" || !printable(strings.TrimSpace(v), maxText) {
				return fmt.Errorf("a non-empty client id of at most %d printable characters", maxText)
			}
			s.ClientID = strings.TrimSpace(v)
			return nil
		}},
}

// The values of the mode setting.
const (
	ModeLive   = "live"
	ModeShadow = "shadow"
)

// ModeName is the mode setting's value for a channel in shadow or not.
func ModeName(shadow bool) string {
	if shadow {
		return ModeShadow
	}
	return ModeLive
}

// Lookup finds a setting by key, case-insensitively.
func Lookup(key string) (Setting, bool) {
	for _, d := range Registry {
		if strings.EqualFold(d.Key, key) {
			return d, true
		}
	}
	return Setting{}, false
}

// Change is one requested change, key=value.
type Change struct {
	Key   string `json:"setting"`
	Value string `json:"value"`
}

// AppliedChange is one change that took effect, with the values before and after,
// for the audit log.
type AppliedChange struct {
	Key string `json:"setting"`
	Old string `json:"old"`
	New string `json:"new"`
}

// Apply validates every change against s and returns the new settings and what
// changed. It is all or nothing: on any error, the returned error names the setting
// and what it accepts, and nothing is applied.
func Apply(s Settings, changes []Change) (Settings, []AppliedChange, error) {
	next := s
	next.Mapping = Mapping{}
	for k, v := range s.Mapping {
		next.Mapping[k] = v
	}
	next.DeliveryMap = DeliveryMapping{}
	for k, v := range s.DeliveryMap {
		next.DeliveryMap[k] = v
	}
	next.StockLocations = slices.Clone(s.StockLocations)
	var applied []AppliedChange
	for _, c := range changes {
		if status, ok := strings.CutPrefix(c.Key, StatusKeyPrefix); ok {
			a, err := applyMapping(&next, status, c.Value)
			if err != nil {
				return s, nil, err
			}
			applied = appendChange(applied, a)
			continue
		}
		if method, ok := cutPrefixFold(c.Key, DeliveryKeyPrefix); ok {
			a, err := applyDelivery(&next, method, c.Value)
			if err != nil {
				return s, nil, err
			}
			applied = appendChange(applied, a)
			continue
		}
		if _, ok := cutPrefixFold(c.Key, PaymentKeyPrefix); ok {
			return s, nil, fmt.Errorf("%s: EKM's order carries no payment method (docs/ekm-api.md §5.1, V2Order), so there is nothing to map; delivery methods map with %s<EKM method>=<hub service>",
				shorten(c.Key), DeliveryKeyPrefix)
		}
		d, ok := Lookup(c.Key)
		if !ok {
			return s, nil, fmt.Errorf("unknown setting %q: known settings are %s, status:<EKM status> and delivery:<EKM delivery method>", c.Key, strings.Join(Keys(), ", "))
		}
		old := d.get(next)
		if err := d.set(&next, c.Value); err != nil {
			return s, nil, fmt.Errorf("%s: %q is not valid: want %v", d.Key, shorten(c.Value), err)
		}
		applied = appendChange(applied, AppliedChange{Key: d.Key, Old: old, New: d.get(next)})
	}
	return next, applied, nil
}

// cutPrefixFold is strings.CutPrefix with the prefix compared case-insensitively.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// appendChange drops no-op changes, so that the audit log holds only real ones.
func appendChange(list []AppliedChange, c AppliedChange) []AppliedChange {
	if c.Old == c.New {
		return list
	}
	return append(list, c)
}

func applyMapping(s *Settings, status, value string) (AppliedChange, error) {
	var name string
	for _, known := range s.ShopStatuses {
		if strings.EqualFold(known, strings.TrimSpace(status)) {
			name = known
		}
	}
	if name == "" {
		return AppliedChange{}, fmt.Errorf("status %q does not exist in the shop: its statuses are %s (run 'starter channel test' to re-read them)",
			status, strings.Join(s.ShopStatuses, ", "))
	}
	t, err := ParseTarget(value)
	if err != nil {
		return AppliedChange{}, fmt.Errorf("%s%s: %w", StatusKeyPrefix, name, err)
	}
	old := s.Mapping.Target(name)
	for k := range s.Mapping {
		if strings.EqualFold(k, name) {
			delete(s.Mapping, k)
		}
	}
	s.Mapping[name] = t
	return AppliedChange{Key: StatusKeyPrefix + name, Old: old.Title(), New: t.Title()}, nil
}

// Keys lists the setting keys.
func Keys() []string {
	keys := make([]string, len(Registry))
	for i, d := range Registry {
		keys[i] = d.Key
	}
	return keys
}

func boolSetting(key, title string, field func(*Settings) *bool) Setting {
	return Setting{Key: key, Title: title, Help: "on or off",
		get: func(s Settings) string { return onOff(*field(&s)) },
		set: func(s *Settings, v string) error {
			b, err := ParseBool(v)
			*field(s) = b
			return err
		}}
}

// intSetting is a whole number from lo to hi; hi is at most the integer column's
// 2147483647, so that no value reaches PostgreSQL out of range.
func intSetting(key, title, help string, lo, hi int, field func(*Settings) *int) Setting {
	return Setting{Key: key, Title: title, Help: help,
		get: func(s Settings) string { return strconv.Itoa(*field(&s)) },
		set: func(s *Settings, v string) error {
			v = strings.TrimSpace(v)
			if v == "" {
				v = "0"
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < lo || n > hi {
				return fmt.Errorf("%s", help)
			}
			*field(s) = n
			return nil
		}}
}

// durationSetting is a duration from least to most, in whole seconds (the column's
// unit): a bound on both sides keeps a loop from spinning or from never running.
func durationSetting(key, title string, least, most time.Duration, field func(*Settings) *time.Duration) Setting {
	help := fmt.Sprintf("a duration such as 90s, 5m or 12h, from %s to %s in whole seconds", least, most)
	return Setting{Key: key, Title: title, Help: help,
		get: func(s Settings) string { return (*field(&s)).String() },
		set: func(s *Settings, v string) error {
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil || d < least || d > most || d%time.Second != 0 {
				return fmt.Errorf("%s", help)
			}
			*field(s) = d
			return nil
		}}
}

// Bounds of the text settings: the hub stores them as text, and an operator's typo
// or a pasted blob should be refused by name rather than fail in PostgreSQL.
const (
	maxText      = 200
	maxURL       = 2048
	maxLocations = 100
)

// printable reports whether v is valid UTF-8 of at most n bytes without control
// characters (PostgreSQL text cannot hold NUL).
func printable(v string, n int) bool {
	if len(v) > n || !utf8.ValidString(v) {
		return false
	}
	return !strings.ContainsFunc(v, unicode.IsControl)
}

// shorten keeps an error message short whatever was typed.
func shorten(v string) string {
	if len(v) <= 80 {
		return v
	}
	return strings.ToValidUTF8(v[:80], "") + "..."
}

func urlSetting(key, title string, field func(*Settings) *string) Setting {
	return Setting{Key: key, Title: title, Help: "an absolute http(s) URL",
		get: func(s Settings) string { return *field(&s) },
		set: func(s *Settings, v string) error {
			v = strings.TrimSpace(v)
			u, err := url.Parse(v)
			if err != nil || len(v) > maxURL || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
				return fmt.Errorf("an absolute http(s) URL without user info, at most %d characters", maxURL)
			}
			*field(s) = strings.TrimRight(u.String(), "/")
			return nil
		}}
}

// ParseBool reads on/off, true/false, yes/no, 1/0.
func ParseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "on", "true", "yes", "1", "enabled":
		return true, nil
	case "off", "false", "no", "0", "disabled":
		return false, nil
	}
	return false, fmt.Errorf("on or off")
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// ValidateName checks a channel name: lower-case letters, digits, '-' and '_',
// starting with a letter or digit, at most 63 characters (it is part of workflow IDs).
func ValidateName(name string) error {
	if len(name) == 0 || len(name) > 63 {
		return fmt.Errorf("channel name %q: want 1 to 63 characters", name)
	}
	for i, r := range name {
		ok := (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || (i > 0 && (r == '-' || r == '_'))
		if !ok {
			return fmt.Errorf("channel name %q: use lower-case letters, digits, '-' and '_', starting with a letter or digit", name)
		}
	}
	return nil
}
