package testsrv

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// PostgresBin is where Debian 12's postgresql-15 package installs the
// server's programs.
const PostgresBin = "/usr/lib/postgresql/15/bin"

// postgresUser is the database superuser the server is initialized with.
const postgresUser = "tessera"

// Postgres is a PostgreSQL 15 server on 127.0.0.1 with its data in a
// temporary directory, run as an unprivileged user (the postgres system
// user when the tests run as root: the server refuses to run as root),
// trusting connections from 127.0.0.1, with fsync off (a test database
// needs no durability).
type Postgres struct {
	dir  string
	port int
	proc *process
	n    atomic.Int64 // databases created
}

// StartPostgres starts a PostgreSQL server for the test; t.Cleanup stops
// it. With -short it skips the test.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	skipShort(t, "PostgreSQL")
	p, err := NewPostgres()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	})
	return p
}

// NewPostgres starts a PostgreSQL server; the caller closes it (for a
// server shared by a package's tests, from TestMain).
func NewPostgres() (*Postgres, error) {
	if err := fileExists(filepath.Join(PostgresBin, "postgres"), "postgresql-15"); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "tessera-postgres-")
	if err != nil {
		return nil, fmt.Errorf("testsrv: %w", err)
	}
	cred, err := unprivileged(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	data := filepath.Join(dir, "data")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	initdb := exec.CommandContext(ctx, filepath.Join(PostgresBin, "initdb"), "-D", data, "-U", postgresUser, "--auth=trust",
		"-E", "UTF8", "--locale=C", "--no-instructions", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Env = append(os.Environ(), "LC_ALL=C")
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("testsrv: initdb: %w\n%s", err, out)
	}
	ports, err := freePorts(1)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	cmd := exec.Command(filepath.Join(PostgresBin, "postgres"), "-D", data, "-p", strconv.Itoa(ports[0]),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+dir, "-c", "fsync=off",
		"-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	proc, err := startProcess(cmd)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("testsrv: starting postgres: %w", err)
	}
	p := &Postgres{dir: dir, port: ports[0], proc: proc}
	if err := p.waitReady(); err != nil {
		_ = p.Close()
		return nil, err
	}
	return p, nil
}

// unprivileged returns the credentials the server runs with and gives
// them dir: the postgres system user when this process is root, else
// none (the server runs as this user).
func unprivileged(dir string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("testsrv: PostgreSQL cannot run as root and there is no postgres user (Debian package postgresql-15 creates it): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return nil, fmt.Errorf("testsrv: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// waitReady waits until the server accepts connections, or exits.
func (p *Postgres) waitReady() error {
	db, err := sql.Open("pgx", p.URL("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := db.PingContext(ctx)
		cancel()
		if err == nil {
			return nil
		}
		if p.proc.exited() {
			return fmt.Errorf("testsrv: postgres exited: %v\n%s", p.proc.err, lastLines(p.proc.out.String(), 20))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("testsrv: postgres not accepting connections after %v: %w\n%s", startTimeout, err, lastLines(p.proc.out.String(), 20))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// URL is the connection URL of database db.
func (p *Postgres) URL(db string) string {
	return fmt.Sprintf("postgres://%s@%s/%s?sslmode=disable", postgresUser, hostPort(p.port), db)
}

// CreateDatabase creates a new, empty database and returns its URL.
func (p *Postgres) CreateDatabase() (string, error) {
	name := fmt.Sprintf("db%d", p.n.Add(1))
	db, err := sql.Open("pgx", p.URL("postgres"))
	if err != nil {
		return "", err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("testsrv: create database: %w", err)
	}
	return p.URL(name), nil
}

// Pause stops every process of the server (SIGSTOP to the postmaster, then
// to each of its children — backends run in sessions of their own): a
// database that hangs, connections open and unanswered. Resume goes on.
func (p *Postgres) Pause() error { return p.signalAll(syscall.SIGSTOP) }

// Resume continues a paused server.
func (p *Postgres) Resume() error { return p.signalAll(syscall.SIGCONT) }

// signalAll sends sig to the postmaster and its children.
func (p *Postgres) signalAll(sig syscall.Signal) error {
	pid := p.proc.cmd.Process.Pid
	if err := syscall.Kill(pid, sig); err != nil {
		return fmt.Errorf("testsrv: postgres: %w", err)
	}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// pid (comm) state ppid …: comm may hold spaces, the last ')' ends it.
		rest := b[bytes.LastIndexByte(b, ')')+1:]
		var state string
		var ppid int
		if _, err := fmt.Sscan(string(rest), &state, &ppid); err != nil || ppid != pid {
			continue
		}
		child, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
		_ = syscall.Kill(child, sig)
	}
	return nil
}

// Close stops the server (SIGTERM, a fast shutdown; SIGKILL if it does not
// exit within stopTimeout) and removes its directory.
func (p *Postgres) Close() error {
	_ = p.Resume() // a paused server would not see the SIGTERM
	err := p.proc.stop()
	if rerr := os.RemoveAll(p.dir); err == nil {
		err = rerr
	}
	return err
}
