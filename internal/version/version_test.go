package version

import (
	"runtime/debug"
	"testing"
)

func TestResolve(t *testing.T) {
	vcs := func(rev, modified string) func() (*debug.BuildInfo, bool) {
		return func() (*debug.BuildInfo, bool) {
			return &debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}}, true
		}
	}
	none := func() (*debug.BuildInfo, bool) { return nil, false }
	for _, tc := range []struct {
		name, stamped string
		read          func() (*debug.BuildInfo, bool)
		want          string
	}{
		{"the stamp wins", "v1.2.3", vcs("0123456789abcdef", "false"), "v1.2.3"},
		{"clean revision", "", vcs("0123456789abcdef", "false"), "dev-0123456789ab"},
		{"dirty revision", "", vcs("0123456789abcdef", "true"), "dev-0123456789ab-dirty"},
		{"no revision", "", vcs("", "false"), "dev"},
		{"no build info", "", none, "dev"},
	} {
		if got := resolve(tc.stamped, tc.read); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}
