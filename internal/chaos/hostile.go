package chaos

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/webhook"
)

// Hostile is the hostile mode (issue 12): on top of the faults, what an attacker
// and a misbehaving shop do. A zero field leaves that part out.
type Hostile struct {
	// ForgedWebhooks are posted to the workers' public listener, spread over the
	// window: no token, a wrong token, the right token with another shop's
	// username, 63 KB topics, topics the receiver does not take.
	ForgedWebhooks int
	// DuplicateHints are authenticated webhooks (the channel's own URL and shop)
	// repeating the ids of orders that already arrived.
	DuplicateHints int
	// PoisonShare of the orders arrive with a poison field: half of them a NUL in
	// a line name (stored, made storable), half a figure beyond the hub's columns
	// (quarantined with the reason).
	PoisonShare float64
	// OversizedProducts get a 9 MB name, too large for the client's body bound
	// even alone: the download completes and reports them as listing problems.
	OversizedProducts int
	// StalePages list answers of the shop repeat the answer before, once each.
	StalePages int
}

// on reports whether any hostile part is on.
func (h Hostile) on() bool { return h != Hostile{} }

// poisonKinds are lines with a figure the hub's columns cannot hold: a quantity
// beyond int32 or below 0, money of 1e10 or more, a tax rate of 1000% or more.
var poisonKinds = []ekmsim.LineSpec{
	{Quantity: 1 << 31, Price: ptrF(0.01)},
	{Quantity: -1},
	{Quantity: 1, Price: ptrF(1e10)},
	{Quantity: 1, TaxRate: ptrF(1000)},
}

func ptrF(f float64) *float64 { return &f }

// poisonLine returns the lines of order i when it is a poison one: with
// storable false when the hub must quarantine it.
func (r *runner) poisonLine(rng *rand.Rand, sku string) (line ekmsim.LineSpec, poison, storable bool) {
	share := r.cfg.Hostile.PoisonShare
	if share == 0 || rng.Float64() >= share {
		return ekmsim.LineSpec{}, false, false
	}
	if rng.IntN(2) == 0 {
		return ekmsim.LineSpec{ProductCode: sku, Quantity: 1, Name: "Mug\x00 with a NUL"}, true, true
	}
	l := poisonKinds[rng.IntN(len(poisonKinds))]
	l.ProductCode = "POISON-1"
	return l, true, false
}

// makeOversized gives the first n products without variants and with a SKU of
// their own a name too large for the client's body bound, and returns their ids.
func makeOversized(sim *ekmsim.Sim, n int) (map[int64]bool, error) {
	ids := map[int64]bool{}
	huge := strings.Repeat("N", 9<<20)
	products := sim.Products()
	all := newCatalog(products)
	for _, p := range products {
		if len(ids) == n {
			break
		}
		if len(p.Variants) > 0 || all.problem(strings.TrimSpace(p.ProductCode)) != "" {
			continue
		}
		if _, err := sim.UpdateProduct(p.ID, ekmsim.ProductPatch{Name: &huge}); err != nil {
			return nil, fmt.Errorf("make product %d oversized: %w", p.ID, err)
		}
		ids[p.ID] = true
	}
	return ids, nil
}

// forgeWebhooks posts the forged webhooks, spread over the window. Every id is
// one no order has, so a forged webhook that reached the order sync would show
// in webhook_hints.
func (r *runner) forgeWebhooks(ctx context.Context) error {
	n := r.cfg.Hostile.ForgedWebhooks
	url, err := r.env.WebhookURL()
	if err != nil {
		return err
	}
	base := r.env.Config.WebhookBaseURL + webhook.PathPrefix // the workers' front, as EKM's webhooks
	token := url[strings.LastIndex(url, "/")+1:]
	user := r.env.Settings().ShopUsername
	huge := strings.Repeat("x", 63<<10)
	for i := range n {
		if err := r.at(ctx, r.spread(i, n)); err != nil {
			return fmt.Errorf("%d of %d forged webhooks posted: %w", i, n, err)
		}
		id := forgedID + int64(i)
		target, body := base+r.env.Channel, fmt.Sprintf(`{"username":%q,"topic":"order.created","entity_id":%d}`, user, id)
		switch i % 5 {
		case 1:
			target += "/" + strings.Repeat("A", len(token))
		case 2:
			target, body = url, fmt.Sprintf(`{"username":"attacker","topic":"order.created","entity_id":%d}`, id)
		case 3:
			target, body = url, fmt.Sprintf(`{"username":%q,"topic":"%s","entity_id":%d}`, user, huge, id)
		case 4:
			target, body = url, fmt.Sprintf(`{"username":%q,"topic":"customer.created","entity_id":%d}`, user, id)
		}
		r.post(ctx, target, body, &r.forged)
	}
	return nil
}

// forgedID is above every id the simulator gives an order in a run.
const forgedID = 900_000_000

// duplicateHints posts authenticated webhooks repeating arrived orders' ids.
func (r *runner) duplicateHints(ctx context.Context) error {
	n := r.cfg.Hostile.DuplicateHints
	url, err := r.env.WebhookURL()
	if err != nil {
		return err
	}
	user := r.env.Settings().ShopUsername
	rng := r.rng(8)
	for i := range n {
		if err := r.at(ctx, r.spread(i, n)); err != nil {
			return fmt.Errorf("%d of %d duplicate hints posted: %w", i, n, err)
		}
		r.mu.Lock()
		var id int64
		if len(r.orders) > 0 {
			id = r.orders[rng.IntN(min(len(r.orders), 100))] // the same 100 ids, again and again
		}
		r.mu.Unlock()
		if id == 0 {
			continue
		}
		r.post(ctx, url, fmt.Sprintf(`{"username":%q,"topic":"order.updated","entity_id":%d}`, user, id), &r.duplicates)
	}
	return nil
}

// answers counts the workers' answers to posted webhooks by status ("reset"
// when no answer came).
type answers struct {
	mu       sync.Mutex
	byStatus map[string]int
}

func (a *answers) add(status string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.byStatus == nil {
		a.byStatus = map[string]int{}
	}
	a.byStatus[status]++
}

func (a *answers) snapshot() map[string]int {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[string]int, len(a.byStatus))
	for k, v := range a.byStatus {
		out[k] = v
	}
	return out
}

var webhookClient = &http.Client{Timeout: 5 * time.Second}

func (r *runner) post(ctx context.Context, url, body string, to *answers) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewBufferString(body))
	if err != nil {
		to.add("error")
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := webhookClient.Do(req)
	if err != nil {
		to.add("reset")
		return
	}
	_ = resp.Body.Close()
	to.add(fmt.Sprint(resp.StatusCode))
}
