// Package store keeps the control API's resources across restarts: an
// embedded SQLite database in the data directory, or a PostgreSQL database
// (Open with a postgres:// URL), reached through database/sql.
//
// # Contract
//
// The store is generic. The API layer owns the wire-shaped JSON document of
// each resource (Resource.Doc) and copies into the indexed columns (Kind,
// Parent, Name, State) what it needs to look resources up by; the store never
// parses a document beyond checking that it is JSON.
//
//   - A resource is addressed by its ARN. Put inserts or replaces it (Created
//     is set on the first insert and kept by later Puts); Create only inserts;
//     Update is a read-modify-write in one transaction; Delete removes it with
//     its tags and, for a stage, its participant events. Deleting a resource
//     does not delete its children (resources whose Parent is its ARN): the
//     caller decides what a deleted stage means for its compositions and
//     tokens.
//   - List pages through one kind in a stable order, creation time then ARN,
//     with optional Parent and State filters and an opaque cursor that stays
//     valid while resources are added or removed. Count counts the same way,
//     for quotas.
//   - Tags are per resource, merged by SetTags, removed by RemoveTags, and
//     deleted with their resource.
//   - PutIdempotent creates a resource under an idempotency key once: a retry
//     with the same key and request hash gets the stored resource back, a
//     different hash is ErrConflict. Keys are kept for the life of the
//     database (they are small); a key whose resource was deleted answers
//     ErrNotFound rather than creating it again.
//   - Participant events are appended per stage and read back in append order
//     with a cursor; participants themselves are resources of kind
//     KindParticipant whose Parent is the stage ARN.
//
// Errors are wrapped with the operation and ARN ("store: get arn:…: not
// found") and match ErrNotFound, ErrConflict, ErrInvalid and ErrCorrupt with
// errors.Is. Times are stored with nanosecond precision and returned in UTC.
//
// # Concurrency and durability
//
// A Store is safe for concurrent use. All writes go through one database
// connection and every write transaction begins with BEGIN IMMEDIATE, so
// writers are serialized (within the process by the connection, across
// processes by SQLite's lock and a busy timeout) and a read-modify-write never
// loses an update. Reads use a separate pool of read-only connections and,
// thanks to WAL mode, neither wait for writers nor block them. A function
// passed to Update runs inside the write transaction: it must not call the
// Store's write methods (that would wait for itself) and should be quick.
// Commits are synchronous (PRAGMA synchronous=FULL): a write that returned is
// on disk. Foreign keys are enforced.
//
// On PostgreSQL the same holds with other means: every write transaction
// first takes one transaction-level advisory lock, so writers are serialized
// across connections and processes; reads use the same pool; a commit is
// durable as the server's settings make it. Several servers share one
// PostgreSQL database as the nodes of a cluster: cluster.go keeps their
// membership (with expiry timed by the database's clock), the stage each
// owns (a lease with a generation, placed by free capacity) and the
// compositions each runs.
//
// # Schema and portability
//
// The schema is created and upgraded by the ordered migrations in
// migrations.go, each applied once in a transaction and recorded in the
// schema_version table; opening a database written by a newer Tessera fails
// instead of guessing. The SQL keeps to what SQLite and PostgreSQL share
// (TEXT and BIGINT columns, ON CONFLICT upserts, no SQLite-only functions);
// the dialect-specific parts, the placeholder style and the auto-numbered
// column type, are confined to the dialect type in dialect.go.
package store
