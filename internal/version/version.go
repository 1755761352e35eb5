// Package version is the build's version, stamped at link time so that every binary
// (worker, starter, ekmsim) and the worker's build ID for Temporal say the same thing:
//
//	go build -ldflags "-X github.com/ekmsync/ekmsync/internal/version.Version=v1.2.3" ./worker
//
// The Makefile and the Dockerfile do this. A binary built without the flag falls back to
// the VCS revision Go records in it (go build in a git checkout), and else to "dev".
package version

import (
	"runtime/debug"
	"sync"
)

// Version is set by -ldflags -X; empty means "not stamped".
var Version string

var (
	once     sync.Once
	resolved string
)

// String returns the stamped version, else "dev-<revision>[-dirty]" from the build
// info, else "dev".
func String() string {
	once.Do(func() { resolved = resolve(Version, debug.ReadBuildInfo) })
	return resolved
}

// resolve is String's rule, with the build-info reader passed in so tests can feed it.
func resolve(stamped string, read func() (*debug.BuildInfo, bool)) string {
	if stamped != "" {
		return stamped
	}
	info, ok := read()
	if !ok {
		return "dev"
	}
	var rev string
	var dirty bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "dev"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	v := "dev-" + rev
	if dirty {
		v += "-dirty"
	}
	return v
}
