// Command clidoc writes the starter's CLI reference, docs/cli.md, from its commands:
// run 'go run ./internal/cmd/clidoc' from the repository root after changing a
// command (internal/cli's TestCLIReferenceIsUpToDate fails until then).
package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/ekmsync/ekmsync/internal/cli"
)

func main() {
	out := "docs/cli.md"
	if len(os.Args) > 1 {
		out = os.Args[1]
	}
	var buf bytes.Buffer
	if err := cli.Reference(&buf); err != nil {
		fmt.Fprintln(os.Stderr, "clidoc:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "clidoc:", err)
		os.Exit(1)
	}
}
