package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// readHidden reads one line: from a terminal without echoing it (a secret must not
// show on screen or in a terminal's scrollback), otherwise as piped.
func readHidden(in io.Reader) (string, error) {
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(os.Stderr) // the operator's Enter was not echoed either
		return string(b), err
	}
	return bufio.NewReader(in).ReadString('\n')
}
