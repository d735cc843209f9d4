package store

import (
	"strconv"
	"strings"
)

// dialect holds everything that differs between the SQL databases the store
// could run on. Every query in this package is written with '?' placeholders
// and passes through rebind before it reaches the driver, and the migrations
// name the auto-numbered column type as {{identity}}; SQLite and PostgreSQL
// differ only in these values.
type dialect struct {
	name string
	// rebind rewrites a query written with '?' placeholders into the
	// driver's placeholder style.
	rebind func(query string) string
	// identity is the column definition of an auto-numbered int64 primary key.
	identity string
	// clock is the database server's current time in Unix nanoseconds, as
	// an SQL expression: leases are timed by the one clock every node
	// shares.
	clock string
}

// sqliteDialect is the embedded default: mattn/go-sqlite3 accepts '?'.
var sqliteDialect = dialect{
	name:     "sqlite3",
	rebind:   func(q string) string { return q },
	identity: "INTEGER PRIMARY KEY",
	clock:    "CAST((julianday('now') - 2440587.5) * 86400000000000.0 AS INTEGER)",
}

// postgresDialect is PostgreSQL's, through pgx's database/sql driver.
var postgresDialect = dialect{
	name:     "postgres",
	rebind:   dollarPlaceholders,
	identity: "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
	clock:    "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000000 AS BIGINT)",
}

// dollarPlaceholders rewrites '?' placeholders as $1, $2, …. The queries of
// this package never contain a '?' inside a string literal.
func dollarPlaceholders(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// ddl fills the dialect-specific parts of a migration statement.
func (d dialect) ddl(stmt string) string {
	return strings.ReplaceAll(stmt, "{{identity}}", d.identity)
}

// placeholders returns n comma-separated '?' placeholders, for IN lists.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
