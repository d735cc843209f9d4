package store

import (
	"context"
	"database/sql"
	"fmt"
)

// SetTags merges tags into the resource's tags: new keys are added,
// existing keys get the new value, other keys stay. ErrNotFound if there is
// no such resource. Tag limits are the API layer's to enforce.
func (s *Store) SetTags(ctx context.Context, arn string, tags map[string]string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := mustExist(ctx, s, tx, arn); err != nil {
			return err
		}
		for k, v := range tags {
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO tags (arn, tag_key, tag_value) VALUES (?, ?, ?)
				ON CONFLICT (arn, tag_key) DO UPDATE SET tag_value = excluded.tag_value`), arn, k, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: set tags %s: %w", arn, err)
	}
	return nil
}

// RemoveTags removes the keys from the resource's tags; keys it does not
// have are ignored. ErrNotFound if there is no such resource.
func (s *Store) RemoveTags(ctx context.Context, arn string, keys []string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := mustExist(ctx, s, tx, arn); err != nil {
			return err
		}
		for _, k := range keys {
			if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM tags WHERE arn = ? AND tag_key = ?`), arn, k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: remove tags %s: %w", arn, err)
	}
	return nil
}

// Tags returns the resource's tags (an empty, non-nil map if it has none),
// or ErrNotFound if there is no such resource.
func (s *Store) Tags(ctx context.Context, arn string) (map[string]string, error) {
	fail := func(err error) (map[string]string, error) {
		return nil, fmt.Errorf("store: tags %s: %w", arn, err)
	}
	// One statement, so the existence check and the tags are one snapshot.
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT t.tag_key, t.tag_value FROM resources r
		LEFT JOIN tags t ON t.arn = r.arn WHERE r.arn = ?`), arn)
	if err != nil {
		return fail(err)
	}
	defer rows.Close()
	found := false
	tags := map[string]string{}
	for rows.Next() {
		found = true
		var k, v sql.NullString
		if err := rows.Scan(&k, &v); err != nil {
			return fail(err)
		}
		if k.Valid {
			tags[k.String] = v.String
		}
	}
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	if !found {
		return fail(ErrNotFound)
	}
	return tags, nil
}

func mustExist(ctx context.Context, s *Store, q queryRower, arn string) error {
	ok, err := exists(ctx, s, q, arn)
	if err == nil && !ok {
		err = ErrNotFound
	}
	return err
}
