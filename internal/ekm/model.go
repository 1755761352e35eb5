package ekm

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// The types in this file mirror the component schemas of EKM's OpenAPI document
// (internal/ekmsim/testdata/ekm-openapi.json). Field names are EKM's snake_case JSON
// names. Nullable strings are plain strings (null decodes to ""); nullable numbers
// and dates are pointers, because zero is a meaningful value for them.

// Envelope is EKM's response wrapper (TempestResponse*). Data is kept raw so that a
// list can be decoded item by item and one malformed item does not hide the rest.
type Envelope struct {
	Meta             map[string]any    `json:"meta"`
	Links            []Link            `json:"links"`
	ValidationResult []ValidationError `json:"validation_result"`
	Errors           map[string]string `json:"errors"`
	Data             json.RawMessage   `json:"data"`
}

// Link is one entry of an envelope's links (TempestLink).
type Link struct {
	Rel  string `json:"rel"`
	Href string `json:"href"`
}

// ValidationError is one entry of an envelope's validation_result (TempestValidationError).
type ValidationError struct {
	MemberNames  []string `json:"member_names"`
	ErrorMessage string   `json:"error_message"`
}

// ListMeta is the meta object of a list response.
type ListMeta struct {
	PagesTotal   int `json:"pages_total"`
	ItemsTotal   int `json:"items_total"`
	ItemsPerPage int `json:"items_per_page"`
}

// Time is an EKM date-time. EKM sends ISO-8601 in UTC with up to seven fractional
// digits ("2020-01-09T03:23:27.0444704Z"); some exports omit the zone, which is then
// taken as UTC (ASSUMED, see docs/ekm-api.md §3).
type Time struct{ time.Time }

// timeLayouts are the forms accepted by Time, tried in order.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.9999999", "2006-01-02T15:04:05"}

// ParseTime parses an EKM date-time string.
func ParseTime(s string) (Time, error) {
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return Time{t.UTC()}, nil
		}
	}
	return Time{}, fmt.Errorf("ekm: unparseable date-time %q", s)
}

// UnmarshalJSON accepts the forms of ParseTime, and null as the zero Time.
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*t = Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("ekm: date-time is not a string: %s", b)
	}
	parsed, err := ParseTime(s)
	if err != nil {
		return err
	}
	*t = parsed
	return nil
}

// MarshalJSON writes RFC 3339 in UTC with EKM's seven fractional digits.
func (t Time) MarshalJSON() ([]byte, error) {
	return json.Marshal(t.UTC().Format("2006-01-02T15:04:05.0000000Z"))
}

// Order is EKM's V2Order.
type Order struct {
	ID                      int64           `json:"id"`
	OrderNumber             string          `json:"order_number"`
	OrderDate               Time            `json:"order_date"`
	IsConfirmed             bool            `json:"is_confirmed"`
	SubTotal                float64         `json:"sub_total"`
	TotalDelivery           float64         `json:"total_delivery"`
	TotalTax                float64         `json:"total_tax"`
	TotalCost               float64         `json:"total_cost"`
	Status                  string          `json:"status"`
	PaymentStatus           string          `json:"payment_status"`
	DeliveryMethod          string          `json:"delivery_method"`
	TransactionID           string          `json:"transaction_id"`
	TransactionStatus       string          `json:"transaction_status"`
	OrderType               string          `json:"order_type"`
	UseShippingAddress      bool            `json:"use_shipping_address"`
	ShippingAddress         *Address        `json:"shipping_address"`
	InternalNotes           string          `json:"internal_notes"`
	CustomerFacingNotes     string          `json:"customer_facing_notes"`
	Emailed                 bool            `json:"emailed"`
	Discounts               string          `json:"discounts"`
	DiscountsTotal          float64         `json:"discounts_total"`
	ShippingCompany         string          `json:"shipping_company"`
	IPAddress               string          `json:"ip_address"`
	GUID                    string          `json:"guid"`
	LastUpdated             *Time           `json:"last_updated"`
	DeliveryTaxRate         *float64        `json:"delivery_tax_rate"`
	DeliveryIncludesTax     *int32          `json:"delivery_includes_tax"`
	CustomFieldsTotal       *float64        `json:"custom_fields_total"`
	CustomFieldsTaxTotal    *float64        `json:"custom_fields_tax_total"`
	CustomerDetails         CustomerDetails `json:"customer_details"`
	CustomFields            string          `json:"custom_fields"`
	DeliveryTrackingNumber  string          `json:"delivery_tracking_number"`
	DeliveryTrackingCompany string          `json:"delivery_tracking_company"`
	DeliveryTrackingURL     string          `json:"delivery_tracking_url"`
}

// Paid reports whether EKM has marked the order paid: payment_status SUCCESS and a
// non-empty transaction id (docs/channel-semantics.md §2).
func (o Order) Paid() bool {
	return strings.EqualFold(o.PaymentStatus, "SUCCESS") && strings.TrimSpace(o.TransactionID) != ""
}

// Address is EKM's V1ShippingAddress.
type Address struct {
	ID                         int64  `json:"id"`
	FirstName                  string `json:"first_name"`
	LastName                   string `json:"last_name"`
	CreatedDate                *Time  `json:"created_date"`
	ModifiedDate               *Time  `json:"modified_date"`
	CustomerID                 int64  `json:"customer_id"`
	IsPreferredBillingAddress  bool   `json:"is_preferred_billing_address"`
	IsPreferredShippingAddress bool   `json:"is_preferred_shipping_address"`
	Company                    string `json:"company"`
	Address                    string `json:"address"`
	Address2                   string `json:"address2"`
	Town                       string `json:"town"`
	County                     string `json:"county"`
	Country                    string `json:"country"`
	FriendlyCountry            string `json:"friendly_country"`
	PostCode                   string `json:"post_code"`
	Telephone                  string `json:"telephone"`
	Fax                        string `json:"fax"`
}

// CustomerDetails is EKM's V1OrderCustomerDetails (the billing customer).
type CustomerDetails struct {
	CustomerID             int64  `json:"customer_id"`
	EmailAddress           string `json:"email_address"`
	FirstName              string `json:"first_name"`
	LastName               string `json:"last_name"`
	Company                string `json:"company"`
	Address                string `json:"address"`
	Address2               string `json:"address2"`
	Town                   string `json:"town"`
	County                 string `json:"county"`
	Country                string `json:"country"`
	FriendlyCountry        string `json:"friendly_country"`
	PostCode               string `json:"post_code"`
	Telephone              string `json:"telephone"`
	Fax                    string `json:"fax"`
	BillingAddressVerified bool   `json:"billing_address_verified"`
}

// OrderItem is EKM's V2OrderItem, one line of an order.
type OrderItem struct {
	ID            int64   `json:"id"`
	ItemDelivery  float64 `json:"item_delivery"`
	ItemDiscount  float64 `json:"item_discount"`
	ItemID        int32   `json:"item_id"`
	ItemName      string  `json:"item_name"`
	ItemOptions   string  `json:"item_options"`
	ItemOrderNote string  `json:"item_order_note"`
	ItemPrice     float64 `json:"item_price"`
	ItemTax       float64 `json:"item_tax"`
	ItemTaxID     int32   `json:"item_tax_id"`
	ItemTaxRate   float64 `json:"item_tax_rate"`
	OrderNumber   string  `json:"order_number"`
	Quantity      int64   `json:"quantity"`
	ProductID     int64   `json:"product_id"`
	OrderID       int64   `json:"order_id"`
	ProductCode   string  `json:"product_code"`
}

// OrderStatusUpdate is the body of PUT /api/v2/orders/{id}/status (V1OrderStatus).
type OrderStatusUpdate struct {
	Status        string `json:"status"`
	EmailCustomer bool   `json:"email_customer"`
}

// DeliveryTracking is the body of PUT /api/v2/orders/{id}/deliveryTracking (V1OrderDeliveryTracking).
type DeliveryTracking struct {
	Number  string `json:"delivery_tracking_number"`
	Company string `json:"delivery_tracking_company"`
	URL     string `json:"delivery_tracking_url"`
}

// InternalNotes is the body of PUT /api/v2/orders/{id}/internalNotes (V2OrderInternalNotes).
type InternalNotes struct {
	Notes string `json:"notes"`
}

// OrderStatusSetting is one shop status from GET /api/v1/settings/orderstatuses (V1OrderStatusSetting).
type OrderStatusSetting struct {
	Name             string `json:"name"`
	Colour           string `json:"colour"`
	ShowInQuickStats bool   `json:"show_in_quick_stats"`
}

// OrderStatuses is the data of GET /api/v1/settings/orderstatuses (V1OrderStatuses).
type OrderStatuses struct {
	Statuses []OrderStatusSetting `json:"statuses"`
}

// CurrencySettings is the data of GET /api/v1/settings/currency (CurrencySettings).
type CurrencySettings struct {
	CurrencyCode      string `json:"currency_code"`
	CountryCode       string `json:"country_code"`
	CurrencySymbol    string `json:"currency_symbol"`
	CurrentHTMLSymbol string `json:"current_html_symbol"`
}

// Product is EKM's V1Product.
type Product struct {
	ID                int64             `json:"id"`
	CategoryID        *int64            `json:"category_id"`
	Name              string            `json:"name"`
	Description       string            `json:"description"`
	ShortDescription  string            `json:"short_description"`
	NumberInStock     int64             `json:"number_in_stock"`
	Price             float64           `json:"price"`
	RRP               float64           `json:"rrp"`
	ProductCode       string            `json:"product_code"`
	ChargeDelivery    bool              `json:"charge_delivery"`
	SpecialOffer      bool              `json:"special_offer"`
	Brand             string            `json:"brand"`
	Condition         string            `json:"condition"`
	GTIN              string            `json:"gtin"`
	MPN               string            `json:"mpn"`
	ProductWeight     float64           `json:"product_weight"`
	CanBeAddedToCart  bool              `json:"can_be_added_to_cart"`
	TaxApplicable     bool              `json:"tax_applicable"`
	TaxRateID         *int32            `json:"tax_rate_id"`
	Live              bool              `json:"live"`
	OrderNote         string            `json:"order_note"`
	RedirectURL       string            `json:"redirect_url"`
	LastModified      Time              `json:"last_modified"`
	MetaDescription   string            `json:"meta_description"`
	MetaKeywords      string            `json:"meta_keywords"`
	MetaTitle         string            `json:"meta_title"`
	TotalProductStock int64             `json:"total_product_stock"`
	ParentProductID   *int64            `json:"parent_product_id"`
	Options           []ProductOption   `json:"options"`
	Variants          []Variant         `json:"variants"`
	Categories        []ProductCategory `json:"categories"`
	AttributeItems    []json.RawMessage `json:"attribute_items"`
	OrderLocation     int64             `json:"order_location"`
	SEOFriendlyURL    string            `json:"seo_friendly_url"`
}

// UpdateProduct is the body of PUT /api/v1/products/{id} (V1UpdateProduct); Name is required.
type UpdateProduct struct {
	ID                int64   `json:"id"`
	CategoryID        *int64  `json:"category_id"`
	Name              string  `json:"name"`
	Description       string  `json:"description"`
	ShortDescription  string  `json:"short_description"`
	NumberInStock     int64   `json:"number_in_stock"`
	Price             float64 `json:"price"`
	RRP               float64 `json:"rrp"`
	ProductCode       string  `json:"product_code"`
	ChargeDelivery    bool    `json:"charge_delivery"`
	SpecialOffer      bool    `json:"special_offer"`
	Brand             string  `json:"brand"`
	Condition         string  `json:"condition"`
	GTIN              string  `json:"gtin"`
	MPN               string  `json:"mpn"`
	ProductWeight     float64 `json:"product_weight"`
	CanBeAddedToCart  bool    `json:"can_be_added_to_cart"`
	TaxApplicable     bool    `json:"tax_applicable"`
	Live              bool    `json:"live"`
	OrderNote         string  `json:"order_note"`
	RedirectURL       string  `json:"redirect_url"`
	LastModified      Time    `json:"last_modified"`
	MetaDescription   string  `json:"meta_description"`
	MetaKeywords      string  `json:"meta_keywords"`
	MetaTitle         string  `json:"meta_title"`
	TotalProductStock int64   `json:"total_product_stock"`
}

// ToUpdate returns the product as an update body, carrying every current value so
// that a PUT changes only what the caller then edits (EKM does not document whether
// omitted fields are cleared, see docs/ekm-api.md "Unknown").
func (p Product) ToUpdate() UpdateProduct {
	return UpdateProduct{
		ID: p.ID, CategoryID: p.CategoryID, Name: p.Name, Description: p.Description,
		ShortDescription: p.ShortDescription, NumberInStock: p.NumberInStock, Price: p.Price, RRP: p.RRP,
		ProductCode: p.ProductCode, ChargeDelivery: p.ChargeDelivery, SpecialOffer: p.SpecialOffer,
		Brand: p.Brand, Condition: p.Condition, GTIN: p.GTIN, MPN: p.MPN, ProductWeight: p.ProductWeight,
		CanBeAddedToCart: p.CanBeAddedToCart, TaxApplicable: p.TaxApplicable, Live: p.Live,
		OrderNote: p.OrderNote, RedirectURL: p.RedirectURL, LastModified: p.LastModified,
		MetaDescription: p.MetaDescription, MetaKeywords: p.MetaKeywords, MetaTitle: p.MetaTitle,
		TotalProductStock: p.TotalProductStock,
	}
}

// ProductOption is EKM's V1ProductOption: a customer input with price modifiers, no stock of its own.
type ProductOption struct {
	ID          int64               `json:"id"`
	ProductID   int64               `json:"product_id"`
	Name        string              `json:"name"`
	IsRequired  bool                `json:"is_required"`
	Type        string              `json:"type"`
	Size        int32               `json:"size"`
	OptionItems []ProductOptionItem `json:"option_items"`
}

// ProductOptionItem is EKM's V1ProductOptionItem.
type ProductOptionItem struct {
	ID              int64   `json:"id"`
	ProductOptionID int64   `json:"product_option_id"`
	Name            string  `json:"name"`
	Price           float64 `json:"price"`
	IsPlaceholder   bool    `json:"is_placeholder"`
}

// ProductCategory is EKM's V1ProductCategory.
type ProductCategory struct {
	CategoryID        int64 `json:"category_id"`
	IsCategoryManaged bool  `json:"is_category_managed"`
}

// Variant is EKM's V1ProductVariant; it is also the body of PUT .../variants/{variantId}.
type Variant struct {
	ID                  int64                `json:"id"`
	ParentProductID     int64                `json:"parent_product_id"`
	ProductCode         string               `json:"product_code"`
	RRP                 float64              `json:"rrp"`
	IsDefaultVariant    bool                 `json:"is_default_variant"`
	NumberInStock       int64                `json:"number_in_stock"`
	Price               float64              `json:"price"`
	ProductWeight       float64              `json:"product_weight"`
	Condition           string               `json:"condition"`
	GTIN                string               `json:"gtin"`
	MPN                 string               `json:"mpn"`
	Live                bool                 `json:"live"`
	VariantCombinations []VariantCombination `json:"variant_combinations"`
}

// VariantCombination is EKM's V1VariantCombination, e.g. {"Size", "Large"}.
type VariantCombination struct {
	VariantName   string `json:"variant_name"`
	VariantChoice string `json:"variant_choice"`
}

// ProductStock is EKM's V1ProductStock, read and written at /api/v1/products/{id}/stock.
type ProductStock struct {
	ID                int64 `json:"id"`
	Stock             int64 `json:"stock"`
	TotalProductStock int64 `json:"total_product_stock"`
}

// VariantStock is EKM's V1ProductVariantStock, written at .../variants/{variantId}/stock.
type VariantStock struct {
	ID              int64 `json:"id"`
	ParentProductID int64 `json:"parent_product_id"`
	Stock           int64 `json:"stock"`
}

// WebhookSubscription is EKM's V2WebhookSubscription.
type WebhookSubscription struct {
	ID               string `json:"id"`
	Topic            string `json:"topic"`
	MerchantUsername string `json:"merchant_username"`
	ClientID         string `json:"client_id"`
	Endpoint         string `json:"endpoint"`
	IsEnabled        bool   `json:"is_enabled"`
	DisabledReason   string `json:"disabled_reason"`
}

// AddWebhook is the body of POST /api/v2/Webhooks (V2AddWebhookSubscription).
type AddWebhook struct {
	Topic     string `json:"topic"`
	Endpoint  string `json:"endpoint"`
	IsEnabled bool   `json:"is_enabled"`
}

// WebhookEvent is what EKM POSTs to a subscribed endpoint. Only a hint: the
// receiver fetches the order by id and trusts nothing else in it.
type WebhookEvent struct {
	Username string `json:"username"`
	Topic    string `json:"topic"`
	EntityID int64  `json:"entity_id"`
}

// TokenResponse is the JSON answer of /connect/token.
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	ExpiresIn    int64  `json:"expires_in"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope,omitempty"`
}

// Webhook topics EKM sends.
const (
	TopicOrderCreated = "order.created"
	TopicOrderUpdated = "order.updated"
)
