// Package pgtemp runs a private, throw-away PostgreSQL server on a free port, which
// the chaos suite can restart without disturbing anything else on the machine.
// It uses the server binaries of the machine's PostgreSQL installation; as root it
// runs them as the postgres user, since PostgreSQL refuses to run as root.
package pgtemp

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ekmsync/ekmsync/internal/devserver"
	"github.com/ekmsync/ekmsync/internal/store"
)

// Server is a private PostgreSQL server.
type Server struct {
	bin  string
	dir  string
	port int
}

// BinDir finds the directory of the PostgreSQL server binaries (initdb, pg_ctl):
// $EKMSYNC_PG_BIN, else the first place that has initdb of
//   - the PATH (Homebrew, Postgres.app, most distributions' packages),
//   - `pg_config --bindir` (an installation whose client tools alone are on the PATH),
//   - /usr/lib/postgresql/<version>/bin, newest first (Debian and Ubuntu keep the
//     server binaries off the PATH).
func BinDir() (string, error) {
	if d := os.Getenv("EKMSYNC_PG_BIN"); d != "" {
		return d, nil
	}
	for _, d := range binDirCandidates() {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("PostgreSQL's server binaries (initdb, pg_ctl) were not found on the PATH, through pg_config --bindir, " +
		"or under /usr/lib/postgresql/*/bin: install the PostgreSQL server (apt-get install postgresql; brew install postgresql), " +
		"or set EKMSYNC_PG_BIN to the directory that holds initdb")
}

// binDirCandidates lists the directories BinDir tries, in order.
func binDirCandidates() []string {
	var dirs []string
	if p, err := exec.LookPath("initdb"); err == nil {
		dirs = append(dirs, filepath.Dir(p))
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if d := strings.TrimSpace(string(out)); d != "" {
			dirs = append(dirs, d)
		}
	}
	debian, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(debian, func(i, j int) bool { return pgVersion(debian[i]) > pgVersion(debian[j]) })
	return append(dirs, debian...)
}

// pgVersion is the major version in a /usr/lib/postgresql/<version>/bin path (0 if
// none), so that 17 sorts after 9.6.
func pgVersion(dir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(dir)), 64)
	return v
}

// Start initialises a cluster in a new directory under parent and starts it.
func Start(ctx context.Context, parent string) (*Server, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(parent, "pgtemp-")
	if err != nil {
		return nil, err
	}
	port, err := devserver.FreePort()
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin, dir: dir, port: port}
	if err := s.chown(); err != nil {
		return nil, err
	}
	if out, err := s.run(ctx, "initdb", "-D", s.data(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"); err != nil {
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	return s, s.StartServer(ctx)
}

func (s *Server) data() string { return filepath.Join(s.dir, "data") }

// URL returns the connection URL of database name.
func (s *Server) URL(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, name)
}

// StartServer starts the (stopped) server and waits until it accepts connections.
func (s *Server) StartServer(ctx context.Context) error {
	opts := "-p " + strconv.Itoa(s.port) + " -c listen_addresses=127.0.0.1 -c unix_socket_directories='" + s.dir + "' -c fsync=off -c max_connections=200"
	if out, err := s.run(ctx, "pg_ctl", "-D", s.data(), "-l", filepath.Join(s.dir, "server.log"), "-o", opts, "-w", "-t", "60", "start"); err != nil {
		return fmt.Errorf("pg_ctl start: %w\n%s", err, out)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		pool, err := store.Connect(ctx, s.URL("postgres"))
		if err == nil {
			pool.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// StopServer stops the server quickly (fast shutdown: open connections are cut,
// as in a real restart).
func (s *Server) StopServer(ctx context.Context) error {
	if out, err := s.run(ctx, "pg_ctl", "-D", s.data(), "-m", "fast", "-w", "stop"); err != nil {
		return fmt.Errorf("pg_ctl stop: %w\n%s", err, out)
	}
	return nil
}

// Restart stops and starts the server.
func (s *Server) Restart(ctx context.Context) error {
	if err := s.StopServer(ctx); err != nil {
		return err
	}
	return s.StartServer(ctx)
}

// Close stops the server and removes its files.
func (s *Server) Close() {
	_ = s.StopServer(context.Background())
	_ = os.RemoveAll(s.dir)
}

// run runs a server binary, as the postgres user when this process is root.
func (s *Server) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	path := filepath.Join(s.bin, name)
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	cmd.Dir = s.dir
	return cmd.CombinedOutput()
}

// chown gives the cluster's directory to the postgres user when running as root.
func (s *Server) chown() error {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("running as root needs a postgres user to run the server: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	// The parent directories must be traversable by postgres.
	for d := s.dir; d != "/" && d != "."; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o001 == 0 {
			_ = os.Chmod(d, fi.Mode().Perm()|0o011)
		}
	}
	return os.Chown(s.dir, uid, gid)
}
