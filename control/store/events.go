package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Event is one participant event of a stage, as AppendEvent stored it.
type Event struct {
	StageARN      string
	SessionID     string
	ParticipantID string
	At            time.Time
	Doc           []byte // the JSON document
}

// AppendEvent records a participant event under the stage. The stage must
// be a stored resource (ErrNotFound otherwise); its events are deleted with
// it. A zero at means now.
func (s *Store) AppendEvent(ctx context.Context, stageARN, sessionID, participantID string, doc []byte, at time.Time) error {
	fail := func(err error) error {
		return fmt.Errorf("store: append event %s: %w", stageARN, err)
	}
	if len(doc) > 0 && !json.Valid(doc) {
		return fail(fmt.Errorf("%w: document is not JSON", ErrInvalid))
	}
	if at.IsZero() {
		at = s.now()
	}
	ns, err := toNanos(at)
	if err != nil {
		return fail(err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		if err := mustExist(ctx, s, tx, stageARN); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO events (stage_arn, session_id, participant_id, occurred, doc)
			VALUES (?, ?, ?, ?, ?)`), stageARN, sessionID, participantID, ns, string(doc))
		return err
	})
	if err != nil {
		return fail(err)
	}
	return nil
}

// Events returns one page of the stage's participant events in the order
// they were appended, restricted to a session and to a participant unless
// those are "", and the cursor of the next page ("" after the last one).
// after is the cursor of the previous page, "" for the first; limit 0 means
// DefaultLimit and is capped at MaxLimit. An unknown stage has no events.
func (s *Store) Events(ctx context.Context, stageARN, sessionID, participantID, after string, limit int) ([]Event, string, error) {
	fail := func(err error) ([]Event, string, error) {
		return nil, "", fmt.Errorf("store: events %s: %w", stageARN, err)
	}
	query := `SELECT seq, stage_arn, session_id, participant_id, occurred, doc FROM events WHERE stage_arn = ?`
	args := []any{stageARN}
	if sessionID != "" {
		query += ` AND session_id = ?`
		args = append(args, sessionID)
	}
	if participantID != "" {
		query += ` AND participant_id = ?`
		args = append(args, participantID)
	}
	if after != "" {
		f, err := decodeCursor(after, "e", 1)
		if err != nil {
			return fail(err)
		}
		seq, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return fail(fmt.Errorf("%w: malformed cursor", ErrInvalid))
		}
		query += ` AND seq > ?`
		args = append(args, seq)
	}
	n := pageSize(limit)
	query += ` ORDER BY seq LIMIT ?`
	args = append(args, n+1)
	rows, err := s.r.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return fail(err)
	}
	defer rows.Close()
	var out []Event
	var seqs []int64
	for rows.Next() {
		var e Event
		var seq, ns int64
		var doc string
		if err := rows.Scan(&seq, &e.StageARN, &e.SessionID, &e.ParticipantID, &ns, &doc); err != nil {
			return fail(err)
		}
		e.At, e.Doc = fromNanos(ns), []byte(doc)
		out = append(out, e)
		seqs = append(seqs, seq)
	}
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	next := ""
	if len(out) > n {
		out = out[:n]
		next = encodeCursor("e", strconv.FormatInt(seqs[n-1], 10))
	}
	return out, next, nil
}
