package ekmsim

import (
	"errors"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// sampleOrder is an order record with every searchable field set.
func sampleOrder() *orderRec {
	updated := ekm.Time{Time: time.Date(2024, 3, 2, 10, 0, 0, 0, time.UTC)}
	return &orderRec{order: ekm.Order{
		ID: 42, OrderNumber: "42/010324/17", Status: "AWAITING STOCK", PaymentStatus: "SUCCESS",
		OrderDate:   ekm.Time{Time: time.Date(2024, 3, 1, 9, 30, 0, 123456700, time.UTC)},
		LastUpdated: &updated,
	}}
}

// sampleProduct is a product record with every searchable field set.
func sampleProduct() *productRec {
	return &productRec{product: ekm.Product{ID: 7, Name: "Heritage Wool Scarf", ProductCode: "SKU-00007", Live: true}}
}

func TestParseAndMatchOrders(t *testing.T) {
	o := sampleOrder()
	blank := &orderRec{order: ekm.Order{ID: 1}}
	for _, tc := range []struct {
		query      string
		want, none bool // none: the result for an order with empty fields
	}{
		{"status eq 'AWAITING STOCK'", true, false},
		{"status eq 'awaiting stock'", true, false},
		{"status ne 'PENDING'", true, true},
		{"status eq null", false, true},
		{"status ne null", true, false},
		{"id eq 42", true, false},
		{"id gt 41.5 and id lt 43", true, false},
		{"42 eq id", true, false},
		{"41 lt id", true, false},
		{"id ge -1", true, true},
		{"id le 41", false, true},
		{"payment_status eq 'success'", true, false},
		{"order_number eq '42/010324/17'", true, false},
		{"order_date ge datetime'2024-03-01T00:00:00'", true, false},
		{"order_date lt DateTime'2024-03-01T09:30:00.1234567'", false, true},
		{"order_date eq datetime'2024-03-01T09:30:00.1234567Z'", true, false},
		{"order_date gt datetimeoffset'2024-03-01T10:00:00+02:00'", true, false},
		{"order_date ge '2024-03-01' and order_date lt '2024-03-02'", true, false},
		{"last_updated eq null", false, true},
		{"last_updated gt '2024-03-02T09:59:59Z'", true, false},
		{"not (status eq 'PENDING')", true, true},
		{"NOT status EQ 'PENDING' AND id Eq 42", true, false},
		{"status eq 'PENDING' or status eq 'AWAITING STOCK' and id eq 1", false, false},
		{"(status eq 'PENDING' or status eq 'AWAITING STOCK') and id eq 42", true, false},
		{"order_number eq 'it''s'", false, false},
		{"  id   eq\t42  ", true, false},
	} {
		e, err := Parse(tc.query, orderFields)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.query, err)
			continue
		}
		if got := e.Match(o); got != tc.want {
			t.Errorf("%q on the sample order = %v, want %v", tc.query, got, tc.want)
		}
		if got := e.Match(blank); got != tc.none {
			t.Errorf("%q on an order with empty fields = %v, want %v", tc.query, got, tc.none)
		}
	}
}

func TestParseAndMatchProducts(t *testing.T) {
	p := sampleProduct()
	for _, tc := range []struct {
		query string
		want  bool
	}{
		{"product_code eq 'SKU-00007'", true},
		{"product_code eq 'sku-00007'", false}, // SKUs compare exactly
		{"live eq true", true},
		{"live eq FALSE", false},
		{"live", true},
		{"not live", false},
		{"live ne false and name eq 'Heritage Wool Scarf'", true},
		{"name gt 'A' and name lt 'I'", true},
		{"product_code eq ''", false},
	} {
		e, err := Parse(tc.query, productFields)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.query, err)
			continue
		}
		if got := e.Match(p); got != tc.want {
			t.Errorf("%q = %v, want %v", tc.query, got, tc.want)
		}
	}
	empty := &productRec{product: ekm.Product{ID: 8}}
	e, err := Parse("product_code eq ''", productFields)
	if err != nil || !e.Match(empty) {
		t.Errorf("product_code eq '' should match an empty SKU (err %v)", err)
	}
}

func TestParseRejects(t *testing.T) {
	for _, q := range []string{
		"", "   ", "status", "id", "status eq", "eq 'x'", "status eq 'x' and", "status eq 'x' or or id eq 1",
		"(status eq 'x'", "status eq 'x')", "status = 'x'", "status eq \"x\"", "status eq 'x", "colour eq 'red'",
		"status eq 1", "id eq 'one'", "id eq true", "live gt true", "live eq 'yes'", "order_date gt 'last week'",
		"order_date gt datetime'2024-13-45'", "status eq status", "'a' eq 'a'", "status lt null",
		"contains(status, 'PEN')", "tolower(status) eq 'pending'", "status eq 'x' id eq 1", "1.2.3 eq id",
		"product_code eq 'SKU-1'", // a product field on orders
		"status eq 'x'; drop table orders",
	} {
		_, err := Parse(q, orderFields)
		if err == nil {
			t.Errorf("Parse(%q) accepted", q)
		} else if !errors.Is(err, ErrInvalidSearch) {
			t.Errorf("Parse(%q) error %v does not wrap ErrInvalidSearch", q, err)
		}
	}
}

func TestParseDepthIsBounded(t *testing.T) {
	deep := ""
	for range 200 {
		deep += "not ("
	}
	deep += "id eq 1"
	for range 200 {
		deep += ")"
	}
	if _, err := Parse(deep, orderFields); !errors.Is(err, ErrInvalidSearch) {
		t.Errorf("200 nested levels: %v, want an invalid search", err)
	}
}
