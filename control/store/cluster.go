package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The nodes serving from one database: membership with expiry, the stage
// each node owns (a lease with a generation) and the compositions each
// runs. Expiry is timed by the database's clock (dialect.clock), so nodes
// need not agree on the time. A node stays registered, with its stages,
// until another removes it (ExpireNodes) once its life ran out; until then
// it may renew. Every change is a write transaction, so changes are
// serialized: a node renewing and a survivor expiring it never both
// succeed.

// ErrNotOwner: UpdateComposition found the composition run by another
// node, or by none (its node was taken for dead).
var ErrNotOwner = errors.New("the composition is not run by this node")

// ErrNoCapacity: PlaceStage found no live node, not draining, with the
// free capacity asked for.
var ErrNoCapacity = errors.New("no node has free capacity")

// Node is one server on the database, as it registered and last renewed.
type Node struct {
	ID string
	// APIURL is where other nodes reach its API (forwarded calls);
	// WHIPURL is its WHIP endpoint; RTMPURL and RTMPSURL are its stages'
	// RTMP(S) endpoints ("" when it has none); UDPAddr is its media port.
	APIURL, WHIPURL, RTMPURL, RTMPSURL, UDPAddr string
	// CapacityCores is what it commits to media work; LoadCores its
	// estimated load (its own, renewed; plus what placements added since).
	CapacityCores, LoadCores float64
	Draining                 bool
	Started, Expires         time.Time
	// TTL is how long a renewal keeps it alive: it was last heard from at
	// Expires − TTL.
	TTL time.Duration
	// Stages is how many stages it owns (filled by Nodes).
	Stages int
}

// Free is the node's capacity not yet taken.
func (n Node) Free() float64 { return n.CapacityCores - n.LoadCores }

// Owner is a stage's lease: its node and the lease's generation, which
// grows with every placement of the stage.
type Owner struct {
	Node
	Generation int64
}

const nodeColumns = `n.id, n.api_url, n.whip_url, n.rtmp_url, n.rtmps_url, n.udp_addr, n.capacity_cores, n.load_cores, n.draining, n.started, n.expires, n.ttl`

func scanNode(sc row, extra ...any) (Node, error) {
	var n Node
	var draining, started, expires, ttl int64
	err := sc.Scan(append([]any{&n.ID, &n.APIURL, &n.WHIPURL, &n.RTMPURL, &n.RTMPSURL, &n.UDPAddr,
		&n.CapacityCores, &n.LoadCores, &draining, &started, &expires, &ttl}, extra...)...)
	n.Draining, n.Started, n.Expires, n.TTL = draining != 0, fromNanos(started), fromNanos(expires), time.Duration(ttl)
	return n, err
}

// RegisterNode adds n (or replaces the node of its ID), alive for ttl.
func (s *Store) RegisterNode(ctx context.Context, n Node, ttl time.Duration) error {
	if n.ID == "" {
		return fmt.Errorf("store: register node: %w: empty id", ErrInvalid)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM nodes WHERE id = ?`), n.ID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO nodes (id, api_url, whip_url, rtmp_url, rtmps_url, udp_addr,
			capacity_cores, load_cores, draining, started, expires, ttl) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, `+s.d.clock+`, `+s.d.clock+` + ?, ?)`),
			n.ID, n.APIURL, n.WHIPURL, n.RTMPURL, n.RTMPSURL, n.UDPAddr, n.CapacityCores, n.LoadCores, boolInt(n.Draining), ttl.Nanoseconds(), ttl.Nanoseconds())
		return err
	})
	if err != nil {
		return fmt.Errorf("store: register node %s: %w", n.ID, err)
	}
	return nil
}

// RenewNode extends node id's life by ttl and sets its load and draining
// flag. It returns false, with no error, when the node is no longer
// registered: another node found it expired and took its work over. A node
// whose life ran out but that no other node has expired yet renews: none
// has taken its work.
func (s *Store) RenewNode(ctx context.Context, id string, load float64, draining bool, ttl time.Duration) (bool, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE nodes SET load_cores = ?, draining = ?, expires = `+s.d.clock+` + ?, ttl = ?
			WHERE id = ?`), load, boolInt(draining), ttl.Nanoseconds(), ttl.Nanoseconds(), id)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: renew node %s: %w", id, err)
	}
	return n == 1, nil
}

// RemoveNode unregisters node id and releases its stages (a node leaving
// after handing its work over).
func (s *Store) RemoveNode(ctx context.Context, id string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM stage_owners WHERE node_id = ?`), id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q(`DELETE FROM nodes WHERE id = ?`), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: remove node %s: %w", id, err)
	}
	return nil
}

// Nodes lists the live nodes (not expired) by id, with how many stages each
// owns.
func (s *Store) Nodes(ctx context.Context) ([]Node, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+nodeColumns+`,
		(SELECT COUNT(*) FROM stage_owners o WHERE o.node_id = n.id)
		FROM nodes n WHERE n.expires >= `+s.d.clock+` ORDER BY n.id`))
	if err != nil {
		return nil, fmt.Errorf("store: nodes: %w", err)
	}
	defer rows.Close()
	var out []Node
	for rows.Next() {
		var stages int
		n, err := scanNode(rows, &stages)
		if err != nil {
			return nil, fmt.Errorf("store: nodes: %w", err)
		}
		n.Stages = stages
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: nodes: %w", err)
	}
	return out, nil
}

// ExpireNodes unregisters the nodes whose life ran out and returns them
// (Expires says when; they were last heard from at Expires − TTL). Their stages and compositions are left to the
// caller: OrphanStages and OrphanCompositions find them.
func (s *Store) ExpireNodes(ctx context.Context) ([]Node, error) {
	var out []Node
	err := s.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, s.q(`SELECT `+nodeColumns+` FROM nodes n WHERE n.expires < `+s.d.clock))
		if err != nil {
			return err
		}
		for rows.Next() {
			n, err := scanNode(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, n)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, n := range out {
			if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM nodes WHERE id = ?`), n.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: expire nodes: %w", err)
	}
	return out, nil
}

// StageOwner returns the stage's lease while its node is registered (an
// expired node keeps its stages until ExpireNodes removes it).
func (s *Store) StageOwner(ctx context.Context, stageARN string) (Owner, bool, error) {
	o, found, err := stageOwner(ctx, s, s.r, stageARN)
	if err != nil {
		return o, false, fmt.Errorf("store: owner of %s: %w", stageARN, err)
	}
	return o, found, nil
}

func stageOwner(ctx context.Context, s *Store, q queryRower, stageARN string) (Owner, bool, error) {
	var o Owner
	n, err := scanNode(q.QueryRowContext(ctx, s.q(`SELECT `+nodeColumns+`, o.generation FROM stage_owners o
		JOIN nodes n ON n.id = o.node_id WHERE o.stage_arn = ?`), stageARN), &o.Generation)
	if errors.Is(err, sql.ErrNoRows) {
		return o, false, nil
	}
	o.Node = n
	return o, err == nil, err
}

// PlaceStage returns the stage's lease: the one it has while its node is
// registered, else a new one (the next generation) on the live node, not
// draining, with the most free capacity of at least cost (ties: fewer
// stages, then id), whose load grows by cost until its next renewal.
// prefer names a node chosen first when it can take the stage; exclude a
// node never chosen (one handing its stages over). ErrNoCapacity when no
// node has room; ErrNotFound when the stage (a resource) does not exist.
func (s *Store) PlaceStage(ctx context.Context, stageARN string, cost float64, prefer, exclude string) (Owner, error) {
	// Most calls find a lease: read it first, without the write lock.
	if cur, found, err := stageOwner(ctx, s, s.r, stageARN); err == nil && found && cur.ID != exclude {
		return cur, nil
	}
	var o Owner
	err := s.write(ctx, func(tx *sql.Tx) error {
		cur, found, err := stageOwner(ctx, s, tx, stageARN)
		if err != nil || (found && cur.ID != exclude) {
			o = cur
			return err
		}
		// Under the write lock: a stage deleted meanwhile gets no lease.
		if err := mustExist(ctx, s, tx, stageARN); err != nil {
			return err
		}
		var best *Node
		rows, err := tx.QueryContext(ctx, s.q(`SELECT `+nodeColumns+`,
			(SELECT COUNT(*) FROM stage_owners o WHERE o.node_id = n.id)
			FROM nodes n WHERE n.expires >= `+s.d.clock+` AND n.draining = 0 AND n.id <> ? ORDER BY n.id`), exclude)
		if err != nil {
			return err
		}
		for rows.Next() {
			var stages int
			n, err := scanNode(rows, &stages)
			if err != nil {
				rows.Close()
				return err
			}
			n.Stages = stages
			if n.Free() < cost {
				continue
			}
			switch {
			case best != nil && best.ID == prefer:
			case n.ID == prefer, best == nil, n.Free() > best.Free(), n.Free() == best.Free() && n.Stages < best.Stages:
				best = &n
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if best == nil {
			return ErrNoCapacity
		}
		var gen sql.NullInt64
		if err := tx.QueryRowContext(ctx, s.q(`SELECT generation FROM stage_owners WHERE stage_arn = ?`), stageARN).Scan(&gen); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM stage_owners WHERE stage_arn = ?`), stageARN); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO stage_owners (stage_arn, node_id, generation, since) VALUES (?, ?, ?, `+s.d.clock+`)`),
			stageARN, best.ID, gen.Int64+1); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE nodes SET load_cores = load_cores + ? WHERE id = ?`), cost, best.ID); err != nil {
			return err
		}
		best.LoadCores += cost
		best.Stages++
		o = Owner{Node: *best, Generation: gen.Int64 + 1}
		return nil
	})
	if err != nil {
		return o, fmt.Errorf("store: place %s: %w", stageARN, err)
	}
	return o, nil
}

// OwnedStages lists the stages node owns, with their generations.
func (s *Store) OwnedStages(ctx context.Context, node string) (map[string]int64, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT stage_arn, generation FROM stage_owners WHERE node_id = ?`), node)
	if err != nil {
		return nil, fmt.Errorf("store: stages of %s: %w", node, err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var arn string
		var gen int64
		if err := rows.Scan(&arn, &gen); err != nil {
			return nil, fmt.Errorf("store: stages of %s: %w", node, err)
		}
		out[arn] = gen
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: stages of %s: %w", node, err)
	}
	return out, nil
}

// ReleaseStage ends node's lease of the stage; false when node did not hold
// it (another caller released it first).
func (s *Store) ReleaseStage(ctx context.Context, stageARN, node string) (bool, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM stage_owners WHERE stage_arn = ? AND node_id = ?`), stageARN, node)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: release %s: %w", stageARN, err)
	}
	return n == 1, nil
}

// ForgetStage ends the stage's lease, whichever node held it (the stage was
// deleted).
func (s *Store) ForgetStage(ctx context.Context, stageARN string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`DELETE FROM stage_owners WHERE stage_arn = ?`), stageARN)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: forget %s: %w", stageARN, err)
	}
	return nil
}

// NodeByID returns a registered node, expired or not.
func (s *Store) NodeByID(ctx context.Context, id string) (Node, bool, error) {
	n, err := scanNode(s.r.QueryRowContext(ctx, s.q(`SELECT `+nodeColumns+` FROM nodes n WHERE n.id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return n, false, nil
	}
	if err != nil {
		return n, false, fmt.Errorf("store: node %s: %w", id, err)
	}
	return n, true, nil
}

// Orphan is a stage lease or a composition held by a node that is no
// longer registered.
type Orphan struct {
	ARN, NodeID string
}

// OrphanStages lists the leases whose node is no longer registered.
func (s *Store) OrphanStages(ctx context.Context) ([]Orphan, error) {
	return s.orphans(ctx, `SELECT o.stage_arn, o.node_id FROM stage_owners o WHERE NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = o.node_id) ORDER BY o.stage_arn`)
}

// OrphanCompositions lists the compositions whose node is no longer
// registered, and (NodeID "") those in one of states that no node is
// recorded as running (they ran on a server from before the cluster).
func (s *Store) OrphanCompositions(ctx context.Context, states ...string) ([]Orphan, error) {
	out, err := s.orphans(ctx, `SELECT c.arn, c.node_id FROM composition_nodes c WHERE NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = c.node_id) ORDER BY c.arn`)
	if err != nil || len(states) == 0 {
		return out, err
	}
	args := []any{KindComposition}
	for _, st := range states {
		args = append(args, st)
	}
	unowned, err := s.orphans(ctx, `SELECT r.arn, '' FROM resources r WHERE r.kind = ? AND r.state IN (`+placeholders(len(states))+`)
		AND NOT EXISTS (SELECT 1 FROM composition_nodes c WHERE c.arn = r.arn) ORDER BY r.arn`, args...)
	return append(out, unowned...), err
}

func (s *Store) orphans(ctx context.Context, query string, args ...any) ([]Orphan, error) {
	rows, err := s.r.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store: orphans: %w", err)
	}
	defer rows.Close()
	var out []Orphan
	for rows.Next() {
		var o Orphan
		if err := rows.Scan(&o.ARN, &o.NodeID); err != nil {
			return nil, fmt.Errorf("store: orphans: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: orphans: %w", err)
	}
	return out, nil
}

// SetCompositionNode records that node runs the composition.
func (s *Store) SetCompositionNode(ctx context.Context, arn, node string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM composition_nodes WHERE arn = ?`), arn); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO composition_nodes (arn, node_id) VALUES (?, ?)`), arn, node)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: node of %s: %w", arn, err)
	}
	return nil
}

// ForgetComposition removes the record of who runs the composition (it
// ended); false when node no longer held it.
func (s *Store) ForgetComposition(ctx context.Context, arn, node string) (bool, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM composition_nodes WHERE arn = ? AND node_id = ?`), arn, node)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: forget %s: %w", arn, err)
	}
	return n == 1, nil
}

// UpdateComposition is Update for a composition that node runs: in the
// same transaction it checks that the composition is still recorded as
// node's (SetCompositionNode) and that node is still registered, else it
// writes nothing and fails with ErrNotOwner. A node that was taken for dead, whose compositions another
// node ended, can no longer change them.
func (s *Store) UpdateComposition(ctx context.Context, arn, node string, fn func(r *Resource) error) error {
	return s.update(ctx, arn, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM composition_nodes c JOIN nodes n ON n.id = c.node_id
			WHERE c.arn = ? AND c.node_id = ?`), arn, node).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotOwner
		}
		return err
	}, fn)
}

// CompositionNode returns the id of the node running the composition, ""
// when none is recorded.
func (s *Store) CompositionNode(ctx context.Context, arn string) (string, error) {
	var id string
	err := s.r.QueryRowContext(ctx, s.q(`SELECT node_id FROM composition_nodes WHERE arn = ?`), arn).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: node of %s: %w", arn, err)
	}
	return id, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
