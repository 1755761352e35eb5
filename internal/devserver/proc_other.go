//go:build unix && !linux

package devserver

import "syscall"

// ChildProcAttr is how the dev server and every other child process of the dev
// stack, the tests and the chaos run are started: in a process group of their own,
// so that a Ctrl-C on the terminal reaches only the parent, which stops them in
// order (the worker before the Temporal server it reports to). Outside Linux there
// is no Pdeathsig: a parent killed with SIGKILL leaves its children running.
func ChildProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
