package channel

import (
	"errors"
	"testing"
)

func TestModeForAllowsEKMLoopbackOrANamedSimulator(t *testing.T) {
	cases := []struct {
		url       string
		simulator bool
		want      APIMode // "" means refused
	}{
		{"https://api.ekm.net", false, APIModeEKM},
		{"https://API.EKM.NET:443", false, APIModeEKM},
		{"http://api.ekm.net", false, ""},               // EKM is https only
		{"https://api.ekm.net.evil.example", false, ""}, // a suffix is not the host
		{"https://user@api.ekm.net", false, ""},
		{"https://partners.ekm.net", false, ""},
		{"http://127.0.0.1:8090", false, APIModeSimulator},
		{"http://[::1]:8090", false, APIModeSimulator},
		{"http://localhost:8090", false, APIModeSimulator},
		{"http://ekmsim:8090", false, ""},
		{"http://ekmsim:8090", true, APIModeSimulator},
		{"ftp://ekmsim", true, ""},
	}
	for _, c := range cases {
		got, err := ModeFor(c.url, c.simulator)
		var hostErr *APIHostError
		if c.want == "" {
			if err == nil || !errors.As(err, &hostErr) {
				t.Errorf("ModeFor(%q, %v) = %q, %v; want an APIHostError", c.url, c.simulator, got, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ModeFor(%q, %v) = %q, %v; want %q", c.url, c.simulator, got, err, c.want)
		}
	}
	if AllowedAPI("http://127.0.0.1:1", APIModeEKM) == nil {
		t.Error("an EKM-bound channel allowed a loopback URL")
	}
}
