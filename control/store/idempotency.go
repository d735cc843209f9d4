package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// PutIdempotent creates r under an idempotency key, in one write
// transaction:
//
//   - a new key: r is inserted (ErrConflict if its ARN already exists) and
//     the key recorded with requestHash; it returns r as stored, created=true;
//   - a known key with the same requestHash: it returns the resource created
//     under the key, as it is now, created=false, and stores nothing;
//   - a known key with another requestHash: ErrConflict;
//   - a known key whose resource has since been deleted: ErrNotFound.
//
// key should name the operation as well as the client's token, e.g.
// "StartComposition/" + token; requestHash is a digest of the request's
// parameters. Keys are never expired: they are kept for the life of the
// database.
func (s *Store) PutIdempotent(ctx context.Context, key, requestHash string, r Resource) (Resource, bool, error) {
	if key == "" {
		return Resource{}, false, fmt.Errorf("store: put idempotent %s: %w: empty key", r.ARN, ErrInvalid)
	}
	var got Resource
	created := false
	err := s.write(ctx, func(tx *sql.Tx) error {
		var hash, arn string
		err := tx.QueryRowContext(ctx, s.q(`SELECT request_hash, arn FROM idempotency_keys WHERE idem_key = ?`), key).Scan(&hash, &arn)
		switch {
		case err == nil:
			if hash != requestHash {
				return fmt.Errorf("%w: idempotency key %q was used with a different request", ErrConflict, key)
			}
			got, err = getResource(ctx, s, tx, arn)
			if errors.Is(err, ErrNotFound) {
				return fmt.Errorf("%w: %s, created under idempotency key %q, was deleted", ErrNotFound, arn, key)
			}
			return err
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		if err := s.create(ctx, tx, &r); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO idempotency_keys (idem_key, request_hash, arn, created) VALUES (?, ?, ?, ?)`),
			key, requestHash, r.ARN, r.Created.UnixNano()); err != nil {
			return err
		}
		got, created = r.normalize(), true
		return nil
	})
	if err != nil {
		return Resource{}, false, fmt.Errorf("store: put idempotent %s: %w", r.ARN, err)
	}
	return got, created, nil
}

// LookupIdempotent reports what PutIdempotent would find under key without
// storing anything: the resource created under it (found=true) when the
// key is known with the same requestHash, ErrConflict for another hash,
// ErrNotFound when that resource was deleted, and found=false for an
// unknown key.
func (s *Store) LookupIdempotent(ctx context.Context, key, requestHash string) (r Resource, found bool, err error) {
	var hash, arn string
	err = s.r.QueryRowContext(ctx, s.q(`SELECT request_hash, arn FROM idempotency_keys WHERE idem_key = ?`), key).Scan(&hash, &arn)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Resource{}, false, nil
	case err != nil:
		return Resource{}, false, fmt.Errorf("store: lookup idempotent %q: %w", key, err)
	case hash != requestHash:
		return Resource{}, false, fmt.Errorf("store: lookup idempotent: %w: idempotency key %q was used with a different request", ErrConflict, key)
	}
	r, err = s.Get(ctx, arn)
	if err != nil {
		return Resource{}, false, err
	}
	return r, true, nil
}
