// Package process builds ekmsync's binaries and runs them as child processes, for the
// dev stack, the integration tests that kill a worker, and the chaos suite. Children
// run in their own process group and, on Linux, die with their parent
// (devserver.ChildProcAttr).
package process

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/ekmsync/ekmsync/internal/devserver"
)

var buildMu sync.Mutex

// Build compiles the main package pkg (e.g. "./worker") of the repository into dir
// and returns the binary's path. Builds are serialised: they share the build cache.
func Build(ctx context.Context, dir, pkg string) (string, error) {
	buildMu.Lock()
	defer buildMu.Unlock()
	root, err := devserver.RepoRoot()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return out, nil
}

// Proc is a running child process.
type Proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// Start runs path with args and the extra environment (on top of this process's),
// writing its output to out.
func Start(path string, args, env []string, out io.Writer) (*Proc, error) {
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = devserver.ChildProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", filepath.Base(path), err)
	}
	p := &Proc{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	return p, nil
}

// PID is the child's process id.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// ExitCode returns the exit code once the process has exited (-1 if killed by a signal).
func (p *Proc) ExitCode() int {
	<-p.done
	return p.cmd.ProcessState.ExitCode()
}

// Kill sends SIGKILL to the process group and waits: the crash the tests simulate.
func (p *Proc) Kill() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// Stop sends SIGTERM and waits up to grace, then kills.
func (p *Proc) Stop(grace time.Duration) error {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.Kill()
		return errors.New("did not stop within the grace period: killed")
	}
	return nil
}

// Alive reports whether the process still runs.
func (p *Proc) Alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}
