package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/internal/store/hubtest"
	"github.com/ekmsync/ekmsync/internal/store/storetest"
)

// A pass replaces its kind's plan: a write no longer planned goes, one whose
// values change is updated, the other kinds stay, and only new or changed writes
// are audited, not every pass.
func TestRecordPlanReplacesItsKindAndAuditsOnlyChanges(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	ch := hubtest.Channel(t, db.Pool, "shop", nil)
	stock := func(product int64, qty int) store.PlannedWrite {
		return store.PlannedWrite{Kind: store.PlanStock, Write: "product.stock", Target: fmt.Sprintf("product %d", product), Subject: "SKU",
			EKMProductID: product, Values: map[string]any{"stock": qty}, Reason: "test"}
	}
	record := func(kind string, writes ...store.PlannedWrite) {
		t.Helper()
		if err := db.Store.RecordPlan(ctx, ch, "shop", kind, writes); err != nil {
			t.Fatal(err)
		}
	}
	audits := func() int {
		t.Helper()
		log, err := db.Store.AuditLog(ctx, "shop", "ekm.stock.would-send", 100)
		if err != nil {
			t.Fatal(err)
		}
		return len(log)
	}
	record(store.PlanStock, stock(1, 5), stock(2, 7))
	record(store.PlanPrice, store.PlannedWrite{Kind: store.PlanPrice, Write: "product.update", Target: "product 1", Subject: "SKU",
		EKMProductID: 1, Values: map[string]any{"price": "9.99"}, Reason: "test"})
	record(store.PlanStock, stock(1, 5), stock(2, 7)) // the same again
	if n := audits(); n != 2 {
		t.Fatalf("%d would-send audits after the same plan twice, want 2", n)
	}
	record(store.PlanStock, stock(1, 6)) // 1 changes, 2 is no longer planned
	plan, err := db.Store.Plan(ctx, ch)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan) != 2 || plan[0].Kind != store.PlanStock || plan[0].EKMProductID != 1 || plan[0].Values["stock"] != float64(6) || plan[1].Kind != store.PlanPrice {
		t.Fatalf("plan = %+v; want product 1's stock 6 and the price", plan)
	}
	if n := audits(); n != 3 {
		t.Fatalf("%d would-send audits, want 3 (the change audited once)", n)
	}
	if err := db.Store.ClearPlan(ctx, ch, store.PlanStock); err != nil {
		t.Fatal(err)
	}
	if plan, _ := db.Store.Plan(ctx, ch); len(plan) != 1 || plan[0].Kind != store.PlanPrice {
		t.Fatalf("after clearing stock: %+v; want the price only", plan)
	}
	record(store.PlanPrice) // a pass that plans nothing
	if plan, _ := db.Store.Plan(ctx, ch); len(plan) != 0 {
		t.Fatalf("after an empty price plan: %+v; want none", plan)
	}
}
