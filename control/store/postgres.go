package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// IsPostgresURL reports whether where names a PostgreSQL database
// (postgres:// or postgresql://) rather than a SQLite file.
func IsPostgresURL(where string) bool {
	return strings.HasPrefix(where, "postgres://") || strings.HasPrefix(where, "postgresql://")
}

const (
	// postgresConns bounds a process's connections to PostgreSQL.
	postgresConns = 16
	// postgresConnectTimeout bounds opening a connection.
	postgresConnectTimeout = 10 * time.Second
	// writeLock is the transaction-level advisory lock every write
	// transaction takes first on PostgreSQL: writers are serialized across
	// connections and processes, as SQLite's single writer serializes them
	// (a read-modify-write never loses an update).
	writeLock = 0x7465737365726131 // "tessera1"
)

// openPostgres opens the PostgreSQL database dsn names and brings its
// schema up to date.
func openPostgres(ctx context.Context, dsn string) (*Store, error) {
	name := redact(dsn)
	cfg := dsn
	if !strings.Contains(dsn, "connect_timeout=") {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		cfg += sep + fmt.Sprintf("connect_timeout=%d", int(postgresConnectTimeout.Seconds()))
	}
	db, err := sql.Open("pgx", cfg)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", name, err)
	}
	db.SetMaxOpenConns(postgresConns)
	db.SetMaxIdleConns(postgresConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, postgresConnectTimeout)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store: open %s: %w", name, err)
	}
	s := &Store{path: name, d: postgresDialect, w: db, r: db, now: time.Now}
	if err := s.migrate(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store: open %s: %w", name, err)
	}
	return s, nil
}

// redact is a database URL without its password, for errors and logs.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://…"
	}
	return u.Redacted()
}
