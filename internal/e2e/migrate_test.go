package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/config"
	"github.com/ekmsync/ekmsync/internal/harness"
	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/internal/store/storetest"
)

// 'starter migrate' creates a missing database and applies every migration; run
// again, it applies nothing.
func TestMigrateCreatesTheDatabaseAndIsIdempotent(t *testing.T) {
	h := harness.New(t, harness.Options{NoChannel: true})
	name := fmt.Sprintf("ekmsync_migrate_%d", time.Now().UnixNano())
	url := strings.Replace(storetest.BaseURL(), "/ekmsync_test?", "/"+name+"?", 1)
	t.Cleanup(func() {
		if pool, err := store.Connect(context.Background(), storetest.BaseURL()); err == nil {
			_, _ = pool.Exec(context.Background(), `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
			pool.Close()
		}
	})
	h.Config.DatabaseURL = config.DatabaseURL(url)
	var first, second struct {
		Created bool  `json:"created_database"`
		Applied []int `json:"applied"`
		Current int   `json:"current"`
	}
	h.CLIJSON(&first, "migrate")
	all := store.Migrations()
	if !first.Created || len(first.Applied) != len(all) || first.Current != all[len(all)-1].Version {
		t.Fatalf("first migrate: %+v", first)
	}
	h.CLIJSON(&second, "migrate")
	if second.Created || len(second.Applied) != 0 || second.Current != first.Current {
		t.Fatalf("second migrate: %+v", second)
	}
}
