package channel

import (
	"fmt"
	"strings"
)

// DeliveryKeyPrefix starts the keys that map an EKM delivery method to the hub's
// delivery service: "delivery:Royal Mail 1st Class=RM1".
const DeliveryKeyPrefix = "delivery:"

// PaymentKeyPrefix would start the keys of a payment-method mapping. EKM's REST
// order carries no payment method (docs/ekm-api.md §5.1), so there is nothing to
// map: such a key is refused with that reason.
const PaymentKeyPrefix = "payment:"

// DeliveryMapping maps EKM delivery method names to the hub's delivery services.
type DeliveryMapping map[string]string

// DeliveryService is the hub's delivery service for an order's EKM delivery method
// (docs/channel-semantics.md §2). With no delivery mapping at all the channel does
// not map methods: "" and not unmapped. Otherwise a method without a mapping (or
// an order without a method) is unmapped: the order is stored flagged, with no
// service, never with a default.
func (s Settings) DeliveryService(method string) (service string, unmapped bool) {
	if len(s.DeliveryMap) == 0 {
		return "", false
	}
	method = strings.TrimSpace(method)
	for k, v := range s.DeliveryMap {
		if method != "" && strings.EqualFold(k, method) {
			return v, false
		}
	}
	return "", true
}

// applyDelivery sets (or, with an empty value, removes) the hub service of one EKM
// delivery method. Names compare case-insensitively, as EKM's own do.
func applyDelivery(s *Settings, method, value string) (AppliedChange, error) {
	method, value = strings.TrimSpace(method), strings.TrimSpace(value)
	if method == "" || !printable(method, maxText) {
		return AppliedChange{}, fmt.Errorf("%s<EKM delivery method>: want the method's name as EKM shows it, at most %d printable characters", DeliveryKeyPrefix, maxText)
	}
	if !printable(value, maxText) {
		return AppliedChange{}, fmt.Errorf("%s%s: %q is not valid: want the hub's delivery service name, at most %d printable characters (empty: remove the mapping)",
			DeliveryKeyPrefix, method, shorten(value), maxText)
	}
	var old string
	for k, v := range s.DeliveryMap {
		if strings.EqualFold(k, method) {
			old = v
			delete(s.DeliveryMap, k)
		}
	}
	if value != "" {
		s.DeliveryMap[method] = value
	}
	return AppliedChange{Key: DeliveryKeyPrefix + method, Old: old, New: value}, nil
}
