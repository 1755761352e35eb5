package ekmsim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// generator makes realistic, seeded shop data. It is not safe for concurrent
// use: the seeding code owns it, and later the store's write lock guards it.
type generator struct {
	rng *rand.Rand
}

func newGenerator(seed int64) *generator {
	return &generator{rng: rand.New(rand.NewPCG(uint64(seed), 0x656b6d73696d))}
}

func pick[T any](g *generator, list []T) T { return list[g.rng.IntN(len(list))] }

// chance reports true with probability p.
func (g *generator) chance(p float64) bool { return g.rng.Float64() < p }

// between returns an integer in [lo, hi].
func (g *generator) between(lo, hi int) int { return lo + g.rng.IntN(hi-lo+1) }

// money rounds to pennies.
func money(v float64) float64 { return math.Round(v*100) / 100 }

// price returns a shop-like price in [lo, hi] ending in .99, .50 or .00.
func (g *generator) price(lo, hi float64) float64 {
	whole := math.Floor(lo + g.rng.Float64()*(hi-lo))
	return money(whole + pick(g, []float64{0.99, 0.99, 0.5, 0}))
}

// uuid returns a random (version 4) UUID drawn from the seed.
func (g *generator) uuid() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(g.rng.UintN(256))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// digits returns n random decimal digits.
func (g *generator) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.rng.IntN(10))
	}
	return string(b)
}

// letters returns n random characters from set.
func (g *generator) letters(n int, set string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = set[g.rng.IntN(len(set))]
	}
	return string(b)
}

const upperAlnum = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"

// ekmTime truncates t to the 100 ns EKM's dates carry, so a date a client
// reads back and sends in a filter matches the stored one exactly.
func ekmTime(t time.Time) time.Time { return t.UTC().Truncate(100 * time.Nanosecond) }

// customer is a generated shopper.
type customer struct {
	first, last, email, phone string
	id                        int64 // 0 for a guest checkout
	addr                      ekm.Address
}

// customer generates a shopper with a UK billing address.
func (g *generator) customer() customer {
	c := customer{first: pick(g, firstNames), last: pick(g, lastNames)}
	local := strings.ToLower(c.first + "." + strings.ReplaceAll(c.last, "'", ""))
	if g.chance(0.5) {
		local += g.digits(2)
	}
	c.email = local + "@" + pick(g, emailDomains)
	c.phone = "07700 900" + g.digits(3) // Ofcom's range reserved for fiction
	if g.chance(0.7) {
		c.id = int64(g.between(1000, 999999))
	}
	c.addr = g.address(c.first, c.last)
	c.addr.Telephone = c.phone
	c.addr.CustomerID = c.id
	return c
}

// address generates a UK address for the named person.
func (g *generator) address(first, last string) ekm.Address {
	t := pick(g, towns)
	a := ekm.Address{
		ID:              int64(g.between(1, 9999999)),
		FirstName:       first,
		LastName:        last,
		Company:         pick(g, companies),
		Address:         fmt.Sprintf("%d %s %s", g.between(1, 220), pick(g, streetNames), pick(g, streetSuffixes)),
		Town:            t.name,
		County:          t.county,
		Country:         "GB",
		FriendlyCountry: "United Kingdom",
		PostCode:        g.postcode(t.area),
	}
	if g.chance(0.15) {
		a.Address2, a.Address = a.Address, pick(g, flatPrefixes)
	}
	return a
}

// postcode returns a postcode in the area, e.g. "LS1 4AB".
func (g *generator) postcode(area string) string {
	district := g.between(1, 28)
	if len(area) == 1 {
		district = g.between(1, 9)
	}
	return fmt.Sprintf("%s%d %d%s", area, district, g.rng.IntN(10), g.letters(2, postcodeInward))
}

// ipAddress returns an IPv4 address from a UK ISP block.
func (g *generator) ipAddress() string {
	return fmt.Sprintf("%d.%d.%d.%d", pick(g, ukIPFirstOctets), g.rng.IntN(256), g.rng.IntN(256), g.between(1, 254))
}

// paymentState is one of the payment situations the seed covers.
type paymentState uint8

const (
	paidWithTransaction paymentState = iota // SUCCESS with a transaction id: paid
	paidNoTransaction                       // SUCCESS but no transaction id: not paid by EKM's rule
	paymentUnknown                          // UNKNOWN
	paymentFailed                           // FAILED
	paymentStates                           // how many states there are
)

// payment fills the payment fields of an order for the state.
func (g *generator) payment(o *ekm.Order, st paymentState) {
	switch st {
	case paidWithTransaction:
		o.PaymentStatus = "SUCCESS"
		o.TransactionID = g.transactionID()
		o.TransactionStatus = pick(g, []string{"SUCCESS : Payment captured", "APPROVED : 00 Approved", "COMPLETED : ", "Completed"})
	case paidNoTransaction:
		o.PaymentStatus, o.TransactionID, o.TransactionStatus = "SUCCESS", "", ""
	case paymentUnknown:
		o.PaymentStatus, o.TransactionID, o.TransactionStatus = "UNKNOWN", "", ""
	case paymentFailed:
		o.PaymentStatus, o.TransactionID = "FAILED", ""
		o.TransactionStatus = pick(g, []string{"FAILED : Card declined", "NOTAUTHED : 05 Do not honour", "ABORT : Customer cancelled"})
	}
}

// transactionID returns a card-processor-like transaction id.
func (g *generator) transactionID() string {
	switch g.rng.IntN(3) {
	case 0:
		return "pi_3" + g.letters(23, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
	case 1:
		return g.letters(17, upperAlnum) // PayPal
	default:
		return "{" + strings.ToUpper(g.uuid()) + "}" // Opayo
	}
}

// tracking returns a tracking number and URL for the carrier.
func (g *generator) tracking(company string) (number, url string) {
	switch company {
	case "Royal Mail":
		number = g.letters(2, "ABCDEFGHJKLMNPQRSTUVWXYZ") + g.digits(9) + "GB"
		return number, "https://www.royalmail.com/track-your-item#/tracking-results/" + number
	case "DPD":
		number = "155" + g.digits(11)
		return number, "https://track.dpd.co.uk/parcels/" + number
	case "Evri":
		number = "H" + g.letters(15, upperAlnum)
		return number, "https://www.evri.com/track/parcel/" + number
	}
	return "", ""
}
