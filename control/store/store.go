package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
)

// Errors the store's methods wrap; test them with errors.Is.
var (
	// ErrNotFound: no resource has the ARN (or the idempotency key's resource
	// was deleted).
	ErrNotFound = errors.New("not found")
	// ErrConflict: the ARN already exists (Create, PutIdempotent) or the
	// idempotency key was used with a different request.
	ErrConflict = errors.New("conflict")
	// ErrInvalid: an argument the store cannot accept: an empty ARN or
	// kind, a document that is not JSON, a malformed cursor, an Update that
	// changes the ARN.
	ErrInvalid = errors.New("invalid argument")
	// ErrCorrupt: Open found a file that is not a SQLite database, or a
	// damaged one.
	ErrCorrupt = errors.New("not a SQLite database, or a corrupted one")
)

const (
	// busyTimeout is how long a statement waits for another process's lock.
	busyTimeout = 5 * time.Second
	// DefaultLimit is the page size of List and Events when none is given.
	DefaultLimit = 100
	// MaxLimit caps the page size of List and Events.
	MaxLimit = 1000
)

// Store is the control plane's persistent state. See the package doc for
// its contract.
type Store struct {
	path string
	d    dialect
	w    *sql.DB // exactly one connection: every write goes through it
	r    *sql.DB // read-only connections
	now  func() time.Time
}

// Open opens the store at path and brings its schema up to date: a
// PostgreSQL database when path is a postgres:// or postgresql:// URL
// (IsPostgresURL), else the SQLite database file at path, created (with its
// directory) if needed. A file that is not a SQLite database fails with an
// error matching ErrCorrupt.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, fmt.Errorf("store: open: %w: empty path", ErrInvalid)
	}
	if IsPostgresURL(path) {
		return openPostgres(ctx, path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if fi, err := os.Stat(abs); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("store: open %s: is a directory", path)
	}
	uri := "file:" + escapeURIPath(abs)
	timeout := fmt.Sprint(busyTimeout.Milliseconds())

	w, err := sql.Open("sqlite3", uri+"?mode=rwc&_txlock=immediate&_busy_timeout="+timeout+
		"&_foreign_keys=1&_journal_mode=WAL&_synchronous=FULL")
	if err != nil {
		return nil, openError(path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s := &Store{path: path, d: sqliteDialect, w: w, now: time.Now}
	if err := s.migrate(ctx); err != nil {
		_ = w.Close()
		return nil, openError(path, err)
	}

	r, err := sql.Open("sqlite3", uri+"?mode=rw&_busy_timeout="+timeout+"&_query_only=1")
	if err != nil {
		_ = w.Close()
		return nil, openError(path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	if err := r.PingContext(ctx); err != nil {
		_ = r.Close()
		_ = w.Close()
		return nil, openError(path, err)
	}
	s.r = r
	return s, nil
}

// Close closes the database. The Store must not be used afterwards.
func (s *Store) Close() error {
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(s.r.Close(), err)
	}
	if err != nil {
		return fmt.Errorf("store: close %s: %w", s.path, err)
	}
	return nil
}

// openError names the file and tells a damaged or foreign file apart.
func openError(path string, err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) && (se.Code == sqlite3.ErrNotADB || se.Code == sqlite3.ErrCorrupt) {
		return fmt.Errorf("store: open %s: %w: %w", path, ErrCorrupt, err)
	}
	return fmt.Errorf("store: open %s: %w", path, err)
}

// escapeURIPath escapes the characters that would end the path part of a
// SQLite URI filename.
func escapeURIPath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(p))
}

// q rebinds a query for the dialect.
func (s *Store) q(query string) string { return s.d.rebind(query) }

// write runs fn in a write transaction (BEGIN IMMEDIATE on SQLite; on
// PostgreSQL one holding the writeLock advisory lock), committing if it
// returns nil. fn's error is returned as it is.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if s.d.name == postgresDialect.name {
		if _, err = tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(writeLock)); err != nil {
			return err
		}
	}
	if err = fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// Times are stored as int64 Unix nanoseconds, which covers 1678 to 2262.
var (
	minTime = time.Unix(0, -1<<63).UTC()
	maxTime = time.Unix(0, 1<<63-1).UTC()
)

func toNanos(t time.Time) (int64, error) {
	if t.Before(minTime) || t.After(maxTime) {
		return 0, fmt.Errorf("%w: time %v out of range", ErrInvalid, t)
	}
	return t.UnixNano(), nil
}

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// Cursors are opaque to callers: base64url of a tag and the position.
func encodeCursor(tag string, fields ...string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(tag + "\n" + strings.Join(fields, "\n")))
}

func decodeCursor(c, tag string, n int) ([]string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, fmt.Errorf("%w: malformed cursor", ErrInvalid)
	}
	parts := strings.SplitN(string(b), "\n", n+1)
	if len(parts) != n+1 || parts[0] != tag {
		return nil, fmt.Errorf("%w: malformed cursor", ErrInvalid)
	}
	return parts[1:], nil
}

func pageSize(limit int) int {
	switch {
	case limit <= 0:
		return DefaultLimit
	case limit > MaxLimit:
		return MaxLimit
	}
	return limit
}
