package ekmsim

import (
	"net/http"
	"slices"
	"strings"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// defaultStatuses are EKM's default order statuses ([SW] example, colours
// included) plus one custom status, since shops can add their own.
func defaultStatuses() []ekm.OrderStatusSetting {
	return []ekm.OrderStatusSetting{
		{Name: "Pending", Colour: "#000099", ShowInQuickStats: true},
		{Name: "Processing", Colour: "#FF0000", ShowInQuickStats: true},
		{Name: "Dispatched", Colour: "#FF00FF", ShowInQuickStats: true},
		{Name: "Complete", Colour: "#FF00FF", ShowInQuickStats: true},
		{Name: "Failed", Colour: "#FFFF00", ShowInQuickStats: true},
		{Name: "Declined", Colour: "#0000FF", ShowInQuickStats: true},
		{Name: "Refunded", Colour: "#000099", ShowInQuickStats: true},
		{Name: "Awaiting Stock", Colour: "#FF9900", ShowInQuickStats: false},
	}
}

// defaultCurrency is a UK shop's currency ([SW] example).
func defaultCurrency() ekm.CurrencySettings {
	return ekm.CurrencySettings{CurrencyCode: "GBP", CountryCode: "GB", CurrencySymbol: "£", CurrentHTMLSymbol: "&pound;"}
}

// shopStatus returns the stored (upper-case) form of a status if the shop
// has it, comparing case-insensitively. The caller holds s.mu.
func (st *store) shopStatus(name string) (string, bool) {
	i := slices.IndexFunc(st.statuses, func(s ekm.OrderStatusSetting) bool { return strings.EqualFold(s.Name, name) })
	if i < 0 {
		return "", false
	}
	return strings.ToUpper(st.statuses[i].Name), true
}

// getStatuses serves GET /api/v1/settings/orderstatuses.
func (s *Sim) getStatuses(w http.ResponseWriter, _ *http.Request) {
	writeData(w, http.StatusOK, ekm.OrderStatuses{Statuses: s.Statuses()})
}

// getCurrency serves GET /api/v1/settings/currency.
func (s *Sim) getCurrency(w http.ResponseWriter, _ *http.Request) {
	writeData(w, http.StatusOK, s.Currency())
}

// Statuses returns the shop's order statuses.
func (s *Sim) Statuses() []ekm.OrderStatusSetting {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.st.statuses)
}

// SetStatuses replaces the shop's order statuses (the admin's
// PUT /admin/statuses). Existing orders keep their status strings.
func (s *Sim) SetStatuses(statuses []ekm.OrderStatusSetting) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.statuses = slices.Clone(statuses)
}

// Currency returns the shop's currency settings.
func (s *Sim) Currency() ekm.CurrencySettings {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.st.currency
}

// SetCurrency replaces the shop's currency settings (PUT /admin/currency).
func (s *Sim) SetCurrency(c ekm.CurrencySettings) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.currency = c
}
