package ekm

import (
	"fmt"
	"time"
)

// Search filters. EKM documents the OData operators but not the exact date
// literal, nor how ties of the orderby field are broken (docs/ekm-api.md §7):
// ekmsync sends datetime'<RFC 3339 UTC with EKM's seven fractional digits>' and
// assumes ties come in ascending id order (ASSUMED, as the simulator does).

// ODataTime formats a time as an OData datetime literal.
func ODataTime(t time.Time) string {
	return "datetime'" + t.UTC().Format("2006-01-02T15:04:05.0000000Z") + "'"
}

// KeyAfter is the filter of the records after the key (at, id) in a search
// sorted by the date field and then by id (orderby=field): paging by such a key
// rather than by page number means that records starting to match, or moving,
// while a caller pages cannot shift a page boundary and be missed.
func KeyAfter(field string, at time.Time, id int64) string {
	lit := ODataTime(at)
	return fmt.Sprintf("(%s gt %s or (%s eq %s and id gt %d))", field, lit, field, lit, id)
}
