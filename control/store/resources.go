package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Kinds the control API stores. The store does not restrict Kind to these;
// they are here so that every package spells them the same way.
const (
	KindStage                = "stage"
	KindEncoderConfiguration = "encoder-configuration"
	KindStorageConfiguration = "storage-configuration"
	KindComposition          = "composition"
	KindParticipantToken     = "participant-token"
	KindParticipant          = "participant"
	KindStageSession         = "stage-session"
	KindChannel              = "channel"
	KindPublicKey            = "public-key"
	KindIngestConfiguration  = "ingest-configuration"
)

// Resource is one stored control-plane object.
type Resource struct {
	ARN    string // primary key
	Kind   string // one of the Kind constants (required)
	ID     string // the resource ID, usually the ARN's last segment
	Parent string // the owning resource's ARN (a composition's or token's stage), "" if none
	Name   string
	State  string // e.g. a composition's state; "" if none
	// Created is set to the current time by the first Put or Create when it
	// is zero, and kept by later Puts. Updated is set to the current time
	// when it is zero (Put, Create) or left unchanged by fn (Update).
	Created time.Time
	Updated time.Time
	Doc     []byte // the JSON document; empty or valid JSON
}

// ListQuery selects one page of resources of a kind.
type ListQuery struct {
	Kind   string // required
	Parent string // only resources with this parent; "" for any
	State  string // only resources in this state; "" for any
	After  string // the cursor List returned for the previous page; "" for the first
	Limit  int    // page size; 0 for DefaultLimit, at most MaxLimit
}

const resourceColumns = `arn, kind, id, parent, name, state, created, updated, doc`

// row is what both *sql.Row and *sql.Rows can do.
type row interface{ Scan(dest ...any) error }

// queryRower is what both *sql.DB and *sql.Tx can do.
type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func scanResource(sc row) (Resource, error) {
	var r Resource
	var created, updated int64
	var doc string
	if err := sc.Scan(&r.ARN, &r.Kind, &r.ID, &r.Parent, &r.Name, &r.State, &created, &updated, &doc); err != nil {
		return Resource{}, err
	}
	r.Created, r.Updated = fromNanos(created), fromNanos(updated)
	r.Doc = []byte(doc)
	return r, nil
}

// prepare validates r and fills its zero times.
func (s *Store) prepare(r *Resource) error {
	if r.ARN == "" {
		return fmt.Errorf("%w: empty ARN", ErrInvalid)
	}
	if r.Kind == "" {
		return fmt.Errorf("%w: empty kind", ErrInvalid)
	}
	if len(r.Doc) > 0 && !json.Valid(r.Doc) {
		return fmt.Errorf("%w: document is not JSON", ErrInvalid)
	}
	now := s.now()
	if r.Created.IsZero() {
		r.Created = now
	}
	if r.Updated.IsZero() {
		r.Updated = now
	}
	return nil
}

// args returns r's column values in resourceColumns order.
func (r *Resource) args() ([]any, error) {
	created, err := toNanos(r.Created)
	if err != nil {
		return nil, err
	}
	updated, err := toNanos(r.Updated)
	if err != nil {
		return nil, err
	}
	return []any{r.ARN, r.Kind, r.ID, r.Parent, r.Name, r.State, created, updated, string(r.Doc)}, nil
}

// normalize returns r as Get would return it after storing it.
func (r Resource) normalize() Resource {
	r.Created, r.Updated = fromNanos(r.Created.UnixNano()), fromNanos(r.Updated.UnixNano())
	return r
}

func getResource(ctx context.Context, s *Store, q queryRower, arn string) (Resource, error) {
	r, err := scanResource(q.QueryRowContext(ctx, s.q(`SELECT `+resourceColumns+` FROM resources WHERE arn = ?`), arn))
	if errors.Is(err, sql.ErrNoRows) {
		return Resource{}, ErrNotFound
	}
	return r, err
}

func exists(ctx context.Context, s *Store, q queryRower, arn string) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, s.q(`SELECT 1 FROM resources WHERE arn = ?`), arn).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

const upsertSQL = `INSERT INTO resources (` + resourceColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (arn) DO UPDATE SET kind = excluded.kind, id = excluded.id, parent = excluded.parent,
		name = excluded.name, state = excluded.state, updated = excluded.updated, doc = excluded.doc`

const insertSQL = `INSERT INTO resources (` + resourceColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`

// Put inserts r, or replaces the resource with r's ARN. A replace keeps the
// stored Created time and the resource's tags.
func (s *Store) Put(ctx context.Context, r Resource) error {
	if err := s.prepare(&r); err != nil {
		return fmt.Errorf("store: put %s: %w", r.ARN, err)
	}
	args, err := r.args()
	if err != nil {
		return fmt.Errorf("store: put %s: %w", r.ARN, err)
	}
	if _, err := s.w.ExecContext(ctx, s.q(upsertSQL), args...); err != nil {
		return fmt.Errorf("store: put %s: %w", r.ARN, err)
	}
	return nil
}

// Create inserts r and returns it as stored (times filled in); an existing
// ARN is ErrConflict.
func (s *Store) Create(ctx context.Context, r Resource) (Resource, error) {
	err := s.write(ctx, func(tx *sql.Tx) error { return s.create(ctx, tx, &r) })
	if err != nil {
		return Resource{}, fmt.Errorf("store: create %s: %w", r.ARN, err)
	}
	return r.normalize(), nil
}

func (s *Store) create(ctx context.Context, tx *sql.Tx, r *Resource) error {
	if err := s.prepare(r); err != nil {
		return err
	}
	args, err := r.args()
	if err != nil {
		return err
	}
	ok, err := exists(ctx, s, tx, r.ARN)
	if err != nil {
		return err
	}
	if ok {
		return fmt.Errorf("%w: ARN already exists", ErrConflict)
	}
	_, err = tx.ExecContext(ctx, s.q(insertSQL), args...)
	return err
}

// Get returns the resource with the ARN, or ErrNotFound.
func (s *Store) Get(ctx context.Context, arn string) (Resource, error) {
	r, err := getResource(ctx, s, s.r, arn)
	if err != nil {
		return Resource{}, fmt.Errorf("store: get %s: %w", arn, err)
	}
	return r, nil
}

// Delete removes the resource with the ARN, its tags and the participant
// events recorded under it; ErrNotFound if there is none.
func (s *Store) Delete(ctx context.Context, arn string) error {
	res, err := s.w.ExecContext(ctx, s.q(`DELETE FROM resources WHERE arn = ?`), arn)
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n == 0 {
			err = ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("store: delete %s: %w", arn, err)
	}
	return nil
}

// Update reads the resource with the ARN, lets fn change it and writes it
// back, all in one write transaction, so concurrent Updates never lose one
// another's changes. fn must not change the ARN. If fn leaves Updated as it
// was, it is set to the current time. An error from fn aborts the update
// and is returned as it is; a missing resource is ErrNotFound (fn is not
// called). fn runs while the store's writer is held: it must not call the
// Store's write methods.
func (s *Store) Update(ctx context.Context, arn string, fn func(r *Resource) error) error {
	return s.update(ctx, arn, nil, fn)
}

// update is Update with a check run first in the same transaction (nil:
// none); its error aborts the update.
func (s *Store) update(ctx context.Context, arn string, check func(tx *sql.Tx) error, fn func(r *Resource) error) error {
	var fnErr error
	err := s.write(ctx, func(tx *sql.Tx) error {
		if check != nil {
			if err := check(tx); err != nil {
				return err
			}
		}
		r, err := getResource(ctx, s, tx, arn)
		if err != nil {
			return err
		}
		before := r.Updated
		if fnErr = fn(&r); fnErr != nil {
			return fnErr
		}
		if r.ARN != arn {
			return fmt.Errorf("%w: Update cannot change the ARN (to %q)", ErrInvalid, r.ARN)
		}
		if r.Updated.Equal(before) {
			r.Updated = time.Time{}
		}
		if err := s.prepare(&r); err != nil {
			return err
		}
		args, err := r.args()
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q(`UPDATE resources SET kind = ?, id = ?, parent = ?, name = ?, state = ?,
			created = ?, updated = ?, doc = ? WHERE arn = ?`), append(args[1:], arn)...)
		return err
	})
	if err != nil && fnErr == nil {
		return fmt.Errorf("store: update %s: %w", arn, err)
	}
	return err
}

// List returns one page of resources of q.Kind, ordered by creation time
// then ARN, and the cursor of the next page ("" after the last one).
func (s *Store) List(ctx context.Context, q ListQuery) ([]Resource, string, error) {
	fail := func(err error) ([]Resource, string, error) {
		return nil, "", fmt.Errorf("store: list %s: %w", q.Kind, err)
	}
	if q.Kind == "" {
		return fail(fmt.Errorf("%w: empty kind", ErrInvalid))
	}
	where := []string{"kind = ?"}
	args := []any{q.Kind}
	if q.Parent != "" {
		where = append(where, "parent = ?")
		args = append(args, q.Parent)
	}
	if q.State != "" {
		where = append(where, "state = ?")
		args = append(args, q.State)
	}
	if q.After != "" {
		f, err := decodeCursor(q.After, "r", 2)
		if err != nil {
			return fail(err)
		}
		created, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return fail(fmt.Errorf("%w: malformed cursor", ErrInvalid))
		}
		where = append(where, "(created > ? OR (created = ? AND arn > ?))")
		args = append(args, created, created, f[1])
	}
	limit := pageSize(q.Limit)
	args = append(args, limit+1)
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+resourceColumns+` FROM resources WHERE `+
		strings.Join(where, " AND ")+` ORDER BY created, arn LIMIT ?`), args...)
	if err != nil {
		return fail(err)
	}
	defer rows.Close()
	var out []Resource
	for rows.Next() {
		r, err := scanResource(rows)
		if err != nil {
			return fail(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = encodeCursor("r", strconv.FormatInt(last.Created.UnixNano(), 10), last.ARN)
	}
	return out, next, nil
}

// Count counts the resources of a kind, with the parent unless parent is "",
// in one of the states unless none are given. It is meant for quotas, e.g.
// the active compositions of a stage.
func (s *Store) Count(ctx context.Context, kind, parent string, states ...string) (int, error) {
	if kind == "" {
		return 0, fmt.Errorf("store: count: %w: empty kind", ErrInvalid)
	}
	query := `SELECT COUNT(*) FROM resources WHERE kind = ?`
	args := []any{kind}
	if parent != "" {
		query += ` AND parent = ?`
		args = append(args, parent)
	}
	if len(states) > 0 {
		query += ` AND state IN (` + placeholders(len(states)) + `)`
		for _, st := range states {
			args = append(args, st)
		}
	}
	var n int
	if err := s.r.QueryRowContext(ctx, s.q(query), args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count %s: %w", kind, err)
	}
	return n, nil
}
