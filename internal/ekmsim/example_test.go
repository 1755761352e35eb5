package ekmsim_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
)

// A test serves the simulator, skips the browser with IssueTokens, calls the
// API like EKM, and asserts what the shop received.
func Example() {
	sim := ekmsim.New(ekmsim.Options{Seed: 1, Products: 10, Orders: 45})
	defer sim.Close()
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	access, _ := sim.IssueTokens()

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v2/orders?limit=20", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var page struct {
		Meta ekm.ListMeta `json:"meta"`
		Data []ekm.Order  `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		panic(err)
	}
	fmt.Println(resp.StatusCode, page.Meta.PagesTotal, len(page.Data), resp.Header.Get("X-EKM-RateLimit-Remaining"))
	fmt.Println(len(sim.Writes(ekmsim.WriteFilter{})), sim.RequestCounts()["GET /api/v2/orders"])
	// Output:
	// 200 3 20 39
	// 0 1
}
