package store

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations upgrade the schema; migrations[i] takes it from version i to
// version i+1. Append only: never edit or reorder a migration that has
// shipped, add a new one instead. Statements are portable SQL (see dialect).
var migrations = [][]string{
	// 1: resources, their tags, idempotency keys and participant events.
	{
		`CREATE TABLE resources (
			arn     TEXT   NOT NULL PRIMARY KEY,
			kind    TEXT   NOT NULL,
			id      TEXT   NOT NULL,
			parent  TEXT   NOT NULL,
			name    TEXT   NOT NULL,
			state   TEXT   NOT NULL,
			created BIGINT NOT NULL,
			updated BIGINT NOT NULL,
			doc     TEXT   NOT NULL
		)`,
		`CREATE INDEX resources_by_kind ON resources (kind, created, arn)`,
		`CREATE INDEX resources_by_parent ON resources (kind, parent, created, arn)`,
		`CREATE INDEX resources_by_state ON resources (kind, parent, state)`,
		`CREATE TABLE tags (
			arn       TEXT NOT NULL REFERENCES resources (arn) ON DELETE CASCADE,
			tag_key   TEXT NOT NULL,
			tag_value TEXT NOT NULL,
			PRIMARY KEY (arn, tag_key)
		)`,
		`CREATE TABLE idempotency_keys (
			idem_key     TEXT   NOT NULL PRIMARY KEY,
			request_hash TEXT   NOT NULL,
			arn          TEXT   NOT NULL,
			created      BIGINT NOT NULL
		)`,
		`CREATE TABLE events (
			seq            {{identity}},
			stage_arn      TEXT   NOT NULL REFERENCES resources (arn) ON DELETE CASCADE,
			session_id     TEXT   NOT NULL,
			participant_id TEXT   NOT NULL,
			occurred       BIGINT NOT NULL,
			doc            TEXT   NOT NULL
		)`,
		`CREATE INDEX events_by_participant ON events (stage_arn, session_id, participant_id, seq)`,
	},
	// 2: the nodes serving from one database, the stages each owns and the
	// compositions each runs (cluster.go).
	{
		`CREATE TABLE nodes (
			id             TEXT             NOT NULL PRIMARY KEY,
			api_url        TEXT             NOT NULL,
			whip_url       TEXT             NOT NULL,
			rtmp_url       TEXT             NOT NULL,
			rtmps_url      TEXT             NOT NULL,
			udp_addr       TEXT             NOT NULL,
			capacity_cores DOUBLE PRECISION NOT NULL,
			load_cores     DOUBLE PRECISION NOT NULL,
			draining       INTEGER          NOT NULL,
			started        BIGINT           NOT NULL,
			expires        BIGINT           NOT NULL,
			ttl            BIGINT           NOT NULL
		)`,
		`CREATE TABLE stage_owners (
			stage_arn  TEXT   NOT NULL PRIMARY KEY,
			node_id    TEXT   NOT NULL,
			generation BIGINT NOT NULL,
			since      BIGINT NOT NULL
		)`,
		`CREATE INDEX stage_owners_by_node ON stage_owners (node_id)`,
		`CREATE TABLE composition_nodes (
			arn     TEXT NOT NULL PRIMARY KEY,
			node_id TEXT NOT NULL
		)`,
	},
}

// migrate brings the schema up to date in one write transaction. It is a
// no-op on an up-to-date database and refuses one newer than this code.
func (s *Store) migrate(ctx context.Context) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
			version INTEGER NOT NULL PRIMARY KEY,
			applied BIGINT  NOT NULL
		)`); err != nil {
			return err
		}
		var current sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_version`).Scan(&current); err != nil {
			return err
		}
		v := int(current.Int64)
		if v > len(migrations) {
			return fmt.Errorf("database schema version %d is newer than this Tessera supports (%d); refusing to open it",
				v, len(migrations))
		}
		for ; v < len(migrations); v++ {
			for _, stmt := range migrations[v] {
				if _, err := tx.ExecContext(ctx, s.d.ddl(stmt)); err != nil {
					return fmt.Errorf("migration %d: %w", v+1, err)
				}
			}
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO schema_version (version, applied) VALUES (?, ?)`),
				v+1, s.now().UnixNano()); err != nil {
				return fmt.Errorf("migration %d: %w", v+1, err)
			}
		}
		return nil
	})
}
