package channel

import (
	"time"
)

// Settings is every setting of one channel (the channel screen, §1).
type Settings struct {
	ID                int64         `json:"id"`
	Name              string        `json:"name"`
	APIBaseURL        string        `json:"api_base_url"`
	ClientID          string        `json:"client_id"`
	RedirectURL       string        `json:"redirect_url"`
	ShopUsername      string        `json:"shop_username,omitempty"`
	Enabled           bool          `json:"enabled"`
	Currency          string        `json:"currency"`
	DespatchNotes     bool          `json:"despatch_notes"`
	CancellationNotes bool          `json:"cancellation_notes"`
	DownloadUnpaid    bool          `json:"download_unpaid"`
	UseEKMTax         bool          `json:"use_ekm_tax"`
	PricesIncludeTax  bool          `json:"prices_include_tax"`
	DefaultTaxRate    float64       `json:"default_tax_rate"`
	UpdateInventory   bool          `json:"update_inventory"`
	MaxListed         int           `json:"max_listed"`
	StockPercentage   int           `json:"stock_percentage"`
	EndWhen           int           `json:"end_when"`
	PriceChange       bool          `json:"price_change"`
	StockLocations    []string      `json:"stock_locations"` // nil: every location
	OrderSyncInterval time.Duration `json:"order_sync_interval"`
	OrderOverlap      time.Duration `json:"order_overlap"`
	ListingInterval   time.Duration `json:"listing_interval"`
	PushSweepInterval time.Duration `json:"push_sweep_interval"`
	// EmailOnDespatch and EmailOnCancellation are EKM's email_customer flag on
	// the status update of a despatch and of a full cancellation.
	EmailOnDespatch     bool `json:"email_on_despatch"`
	EmailOnCancellation bool `json:"email_on_cancellation"`
	// TokenKeepAlive refreshes the tokens before EKM's refresh token lapses,
	// whether the channel is enabled or not.
	TokenKeepAlive bool     `json:"token_keepalive"`
	ShopStatuses   []string `json:"shop_statuses"`
	Mapping        Mapping  `json:"status_mapping"`
	// DeliveryMap maps EKM delivery methods to the hub's delivery services
	// (delivery:<EKM method>=<hub service>); empty: methods are not mapped.
	DeliveryMap DeliveryMapping `json:"delivery_mapping"`
	AuthState   AuthState       `json:"auth_state"`
	AuthError   string          `json:"auth_error,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`

	// Shadow is the channel's mode shadow (mode=shadow): it reads from EKM as
	// usual, and its push records each write it would send instead of sending it.
	Shadow bool `json:"shadow"`
	// DriftInterval is how often the worker compares EKM with the hub (0: never
	// on a schedule).
	DriftInterval time.Duration `json:"drift_interval"`
	// ListingRefreshInterval is how often the worker refreshes the listings of
	// the products EKM modified since the last download or refresh (0: never on
	// a schedule).
	ListingRefreshInterval time.Duration `json:"listing_refresh_interval"`
}

// AuthState is the state of a channel's OAuth consent.
type AuthState string

// The auth states.
const (
	AuthUnauthorised AuthState = "unauthorised" // never authorised
	AuthOK           AuthState = "ok"
	AuthNeedsReauth  AuthState = "needs-reauth" // EKM rejected the refresh token
	// AuthRefused: ekmsync refuses to send the credentials, because the channel's
	// api_base_url is not the one they are sealed for (changed outside the CLI).
	// AuthError says what happened and which command fixes it.
	AuthRefused AuthState = "refused"
)

// State is a channel's overall state, shown by 'channel show' and set as the
// EkmChannelState search attribute.
type State string

// The channel states.
const (
	StateOK            State = "ok"
	StateDisabled      State = "disabled"
	StateNeedsReauth   State = "needs-reauth"
	StateMisconfigured State = "misconfigured"
)

// Status is a channel's state with the reason, in words, when it is not ok.
type Status struct {
	State  State  `json:"state"`
	Reason string `json:"reason,omitempty"`
}

// Status works out the channel's state for a flow. Disabled wins (nothing runs);
// then authorisation; then, for order download, the mapping (§2: without a status
// mapped to Paid, or to Unpaid with unpaid download on, it cannot work).
func (s Settings) Status() Status {
	switch {
	case !s.Enabled:
		return Status{StateDisabled, "channel is disabled: enable it with 'starter channel enable " + s.Name + "'"}
	case s.AuthState == AuthUnauthorised:
		return Status{StateNeedsReauth, "channel was never authorised: run 'starter channel reauthorise " + s.Name + "'"}
	case s.AuthState == AuthNeedsReauth:
		reason := "EKM refused the channel's authorisation"
		if s.AuthError != "" {
			reason += " (" + s.AuthError + ")"
		}
		reason += ": run 'starter channel reauthorise " + s.Name + "' (with --client-secret-file if the app's secret changed)"
		return Status{StateNeedsReauth, reason}
	case s.AuthState == AuthRefused:
		// Like needs-reauth, nothing calls EKM until the operator acts: every loop
		// waits as it does for a consent; the reason names the command.
		return Status{StateNeedsReauth, s.AuthError}
	}
	if reason := s.OrderDownloadProblem(); reason != "" {
		return Status{StateMisconfigured, reason}
	}
	return Status{State: StateOK}
}

// OrderDownloadProblem says why order download cannot work with this mapping, or "".
func (s Settings) OrderDownloadProblem() string {
	if s.Mapping.Has(Paid) || (s.DownloadUnpaid && s.Mapping.Has(Unpaid)) {
		return ""
	}
	if s.Mapping.Has(Unpaid) {
		return "no EKM status maps to Paid, and Download Unpaid Orders is off: map a status to Paid, or turn download-unpaid on"
	}
	return "no EKM status maps to Paid: map one with 'starter channel set " + s.Name + " status:<EKM status>=paid'"
}

// DespatchHold says why a despatch cannot be sent now, or "".
func (s Settings) DespatchHold() string {
	if !s.DespatchNotes {
		return "Despatch Notes is off"
	}
	if !s.Mapping.Has(Shipped) {
		return "no EKM status maps to Shipped"
	}
	return ""
}

// CancellationHold says why a cancellation cannot be sent now, or "".
func (s Settings) CancellationHold() string {
	if !s.CancellationNotes {
		return "Cancellation Notes is off"
	}
	if !s.Mapping.Has(Cancelled) {
		return "no EKM status maps to Cancelled"
	}
	return ""
}

// Defaults returns the settings of a new channel before the operator's choices.
func Defaults() Settings {
	return Settings{
		DespatchNotes:     true,
		CancellationNotes: true,
		UseEKMTax:         true,
		DefaultTaxRate:    20,
		UpdateInventory:   true,
		StockPercentage:   100,
		OrderSyncInterval: 5 * time.Minute,
		OrderOverlap:      10 * time.Minute,
		ListingInterval:   12 * time.Hour,
		PushSweepInterval: time.Minute,
		// The dispatch e-mail, tracking included, is what a shop expects; a
		// cancellation usually comes with the merchant's own word (and a refund
		// EKM does not know of), so EKM sends none unless asked.
		EmailOnDespatch:        true,
		EmailOnCancellation:    false,
		TokenKeepAlive:         true,
		DriftInterval:          24 * time.Hour,
		ListingRefreshInterval: time.Hour,
		AuthState:              AuthUnauthorised,
		Mapping:                Mapping{},
		DeliveryMap:            DeliveryMapping{},
	}
}
