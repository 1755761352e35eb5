package cli

import (
	"strings"
	"testing"

	"go.temporal.io/api/enums/v1"

	"github.com/ekmsync/ekmsync/workflows"
)

// A namespace with some of ekmsync's attributes gets the rest; the obsolete names of
// an earlier ekmsync are reported, not refused.
func TestPlanSetupRegistersWhatIsMissingAndReportsObsoleteNames(t *testing.T) {
	have := map[string]enums.IndexedValueType{
		workflows.SAChannel.GetName(): enums.INDEXED_VALUE_TYPE_KEYWORD,
		"ListingDownloadInProgress":   enums.INDEXED_VALUE_TYPE_BOOL,
	}
	res, want, err := planSetup("ekmsync", have)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != len(workflows.SearchAttributes)-1 || len(res.Existing) != 1 || len(res.Registered) != len(want) {
		t.Fatalf("want %v, result %+v", want, res)
	}
	if strings.Join(res.Obsolete, ",") != "ListingDownloadInProgress" {
		t.Fatalf("obsolete %v", res.Obsolete)
	}
	for _, sa := range workflows.SearchAttributes {
		if !strings.HasPrefix(sa.Name, "Ekm") {
			t.Errorf("search attribute %s lacks the Ekm prefix", sa.Name)
		}
	}
}

// Another application's attribute in the namespace, or one of ekmsync's names with
// another type, stops setup with what to do.
func TestPlanSetupRefusesASharedNamespace(t *testing.T) {
	_, _, err := planSetup("default", map[string]enums.IndexedValueType{"CustomerTier": enums.INDEXED_VALUE_TYPE_KEYWORD})
	if err == nil || !strings.Contains(err.Error(), "namespace of its own") || !strings.Contains(err.Error(), "CustomerTier") ||
		!strings.Contains(err.Error(), "TEMPORAL_NAMESPACE") {
		t.Fatalf("shared namespace: %v", err)
	}
	_, _, err = planSetup("ekmsync", map[string]enums.IndexedValueType{workflows.SAOrderSyncDate.GetName(): enums.INDEXED_VALUE_TYPE_KEYWORD})
	if err == nil || !strings.Contains(err.Error(), workflows.SAOrderSyncDate.GetName()) {
		t.Fatalf("wrong type: %v", err)
	}
}

// On Temporal Cloud, setup lists what to add with tcld and the UI instead of failing.
func TestCloudSetupSaysHowToAddTheAttributes(t *testing.T) {
	res := cloudSetup("shop.a1b2c", nil)
	if !res.Cloud || len(res.ToAdd) != len(workflows.SearchAttributes) || len(res.Registered) != 0 {
		t.Fatalf("%+v", res)
	}
	var out strings.Builder
	res.text(&out)
	for _, sa := range workflows.SearchAttributes {
		if !strings.Contains(out.String(), "--search-attribute "+sa.Name+"="+sa.Type) {
			t.Errorf("the instructions lack %s:\n%s", sa.Name, out.String())
		}
	}
	if !strings.Contains(out.String(), "tcld namespace search-attributes add --namespace shop.a1b2c") {
		t.Errorf("no tcld command:\n%s", out.String())
	}
	planned, _, _ := planSetup("shop.a1b2c", map[string]enums.IndexedValueType{workflows.SAChannel.GetName(): enums.INDEXED_VALUE_TYPE_KEYWORD})
	res = cloudSetup("shop.a1b2c", &planned)
	if len(res.ToAdd) != len(workflows.SearchAttributes)-1 || len(res.Existing) != 1 {
		t.Fatalf("with one present: %+v", res)
	}
}
