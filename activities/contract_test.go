package activities

import (
	"reflect"
	"testing"

	"github.com/ekmsync/ekmsync/internal/contract"
)

// Every activity name the workflows call is a method of Activities, which the
// worker registers under its method name: a renamed method fails here, not in a
// running workflow.
func TestContractNamesAreActivities(t *testing.T) {
	typ := reflect.TypeOf(&Activities{})
	for _, name := range contract.ActivityNames {
		if _, ok := typ.MethodByName(name); !ok {
			t.Errorf("contract name %q is not a method of *Activities", name)
		}
	}
}
