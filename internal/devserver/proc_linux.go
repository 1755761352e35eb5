package devserver

import "syscall"

// ChildProcAttr is how the dev server and every other child process of the dev
// stack, the tests and the chaos run are started: in a process group of their own,
// so that a Ctrl-C on the terminal reaches only the parent, which stops them in
// order (the worker before the Temporal server it reports to); and killed if the
// parent dies (Pdeathsig, Linux only), so that a crashed test leaves nothing behind.
func ChildProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
