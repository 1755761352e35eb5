package ekmsim

import (
	"errors"
	"testing"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// FuzzParse checks that no query makes the parser panic, that every failure
// is an invalid search (a 400, never a 500), and that whatever parses can be
// evaluated, on full and on empty records, without panicking.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"status eq 'PENDING'",
		"order_date ge datetime'2024-01-01T00:00:00' and order_date lt datetime'2024-02-01T00:00:00'",
		"not (status eq 'it''s' or id gt -1.5)",
		"live",
		"product_code eq 'SKU-00042' or live eq true",
		"last_updated ne null",
	} {
		f.Add(seed)
	}
	targets := []struct {
		fields  Fields
		records []Record
	}{
		{orderFields, []Record{sampleOrder(), &orderRec{order: ekm.Order{}}}},
		{productFields, []Record{sampleProduct(), &productRec{}}},
	}
	f.Fuzz(func(t *testing.T, query string) {
		for _, target := range targets {
			e, err := Parse(query, target.fields)
			if err != nil {
				if !errors.Is(err, ErrInvalidSearch) {
					t.Fatalf("Parse(%q): %v does not wrap ErrInvalidSearch", query, err)
				}
				continue
			}
			for _, rec := range target.records {
				_ = e.Match(rec)
			}
		}
	})
}
