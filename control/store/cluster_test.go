package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Nodes register and renew; a node whose life ran out is no longer
// listed but keeps its stages until ExpireNodes removes it (once); then it
// cannot renew, and its leases and compositions are orphans.
func TestNodesExpire(t *testing.T) {
	backends(t, func(t *testing.T) {
		s, _ := openTemp(t)
		ctx := context.Background()
		for _, id := range []string{"a", "b"} {
			if err := s.RegisterNode(ctx, Node{ID: id, APIURL: "http://" + id, CapacityCores: 2}, time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.RegisterNode(ctx, Node{ID: "c", CapacityCores: 3}, 300*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		mustPut(t, s, Resource{ARN: "stage-c", Kind: KindStage, Doc: []byte(`{}`)})
		if o, err := s.PlaceStage(ctx, "stage-c", 0.1, "", "a"); err != nil || o.ID != "c" {
			t.Fatalf("placed %+v, %v", o, err)
		}
		if err := s.SetCompositionNode(ctx, "comp-c", "c"); err != nil {
			t.Fatal(err)
		}
		nodes, err := s.Nodes(ctx)
		if err != nil || len(nodes) != 3 || nodes[0].APIURL != "http://a" {
			t.Fatalf("nodes %+v, %v", nodes, err)
		}
		time.Sleep(400 * time.Millisecond)
		if nodes, _ := s.Nodes(ctx); len(nodes) != 2 {
			t.Fatalf("after c's life: %+v", nodes)
		}
		if o, found, _ := s.StageOwner(ctx, "stage-c"); !found || o.ID != "c" {
			t.Fatalf("an expired node's stage before it is removed: %+v", o)
		}
		if ok, err := s.RenewNode(ctx, "a", 0.5, false, time.Hour); !ok || err != nil {
			t.Fatalf("renew a: %v, %v", ok, err)
		}
		if err := s.RegisterNode(ctx, Node{ID: "e", CapacityCores: 1}, 0); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
		if ok, err := s.RenewNode(ctx, "e", 0, false, time.Hour); !ok || err != nil {
			t.Fatalf("an expired node not yet removed could not renew: %v, %v", ok, err)
		}
		gone, err := s.ExpireNodes(ctx)
		if err != nil || len(gone) != 1 || gone[0].ID != "c" || gone[0].TTL != 300*time.Millisecond {
			t.Fatalf("expired %+v, %v", gone, err)
		}
		if again, _ := s.ExpireNodes(ctx); len(again) != 0 {
			t.Fatalf("expired twice: %+v", again)
		}
		if ok, err := s.RenewNode(ctx, "c", 0, false, time.Hour); ok || err != nil {
			t.Fatalf("a removed node renewed: %v, %v", ok, err)
		}
		stages, _ := s.OrphanStages(ctx)
		if len(stages) != 1 || stages[0] != (Orphan{"stage-c", "c"}) {
			t.Fatalf("orphan stages %+v", stages)
		}
		comps, _ := s.OrphanCompositions(ctx)
		if len(comps) != 1 || comps[0] != (Orphan{"comp-c", "c"}) {
			t.Fatalf("orphan compositions %+v", comps)
		}
		if o, _, _ := s.StageOwner(ctx, "stage-c"); o.ID == "c" {
			t.Fatalf("a stage is still owned by the expired node")
		}
		// A live composition no node is recorded as running (from before
		// the cluster) is an orphan of no node.
		if _, err := s.Create(ctx, Resource{ARN: "comp-old", Kind: KindComposition, State: "ACTIVE", Doc: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		if comps, _ := s.OrphanCompositions(ctx, "STARTING", "ACTIVE"); len(comps) != 2 || comps[1] != (Orphan{"comp-old", ""}) {
			t.Fatalf("orphan compositions with the unowned: %+v", comps)
		}
		if ok, _ := s.ForgetComposition(ctx, "comp-c", "a"); ok {
			t.Fatal("forgot another node's composition")
		}
		if ok, _ := s.ForgetComposition(ctx, "comp-c", "c"); !ok {
			t.Fatal("could not forget the composition")
		}
	})
}

// A stage goes to the live node with the most free capacity (ties: fewer
// stages), keeps its lease while its node lives, gets a new generation on
// another node when released or excluded, and is refused when no node has
// room.
func TestPlaceStage(t *testing.T) {
	backends(t, func(t *testing.T) {
		s, _ := openTemp(t)
		ctx := context.Background()
		reg := func(id string, capacity, load float64, draining bool) {
			t.Helper()
			if err := s.RegisterNode(ctx, Node{ID: id, CapacityCores: capacity, LoadCores: load, Draining: draining}, time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		for _, st := range []string{"s1", "s2", "s3", "s4", "s5", "s6", "s7"} {
			mustPut(t, s, Resource{ARN: st, Kind: KindStage, Doc: []byte(`{}`)})
		}
		if _, err := s.PlaceStage(ctx, "deleted", 0.5, "", ""); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a stage that does not exist placed: %v", err)
		}
		reg("a", 2, 1.5, false)
		reg("b", 2, 0.5, false)
		reg("c", 4, 0, true) // draining: never chosen
		var got []string
		for _, st := range []string{"s1", "s2", "s3", "s4"} {
			o, err := s.PlaceStage(ctx, st, 0.5, "", "")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, o.ID)
		}
		// b (free 1.5) takes s1 and s2; a and b then tie at 0.5 free and a,
		// with fewer stages, takes s3; b the last 0.5.
		want := []string{"b", "b", "a", "b"}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("placements %v, want %v", got, want)
			}
		}
		if _, err := s.PlaceStage(ctx, "s5", 0.5, "", ""); !errors.Is(err, ErrNoCapacity) {
			t.Fatalf("a full cluster placed a stage: %v", err)
		}
		o, err := s.PlaceStage(ctx, "s1", 0.5, "", "")
		if err != nil || o.ID != "b" || o.Generation != 1 {
			t.Fatalf("s1 moved: %+v, %v", o, err)
		}
		if ok, _ := s.ReleaseStage(ctx, "s1", "a"); ok {
			t.Fatal("a released b's stage")
		}
		if ok, _ := s.ReleaseStage(ctx, "s1", "b"); !ok {
			t.Fatal("b could not release its stage")
		}
		if _, found, _ := s.StageOwner(ctx, "s1"); found {
			t.Fatal("a released stage has an owner")
		}
		if n, found, err := s.NodeByID(ctx, "b"); err != nil || !found || n.CapacityCores != 2 {
			t.Fatalf("NodeByID: %+v %v %v", n, found, err)
		}
		reg("d", 2, 0, false)
		o, err = s.PlaceStage(ctx, "s2", 0.5, "", "b")
		if err != nil || o.ID != "d" || o.Generation != 2 {
			t.Fatalf("s2 handed over: %+v, %v", o, err)
		}
		// A preferred node with room takes a stage although another has
		// more; one without room does not.
		if o, err := s.PlaceStage(ctx, "s6", 0.5, "a", ""); err != nil || o.ID != "d" {
			t.Fatalf("preferring a full node: %+v, %v", o, err)
		}
		reg("e", 3, 0, false)
		if o, err := s.PlaceStage(ctx, "s7", 0.5, "d", ""); err != nil || o.ID != "d" {
			t.Fatalf("preferring d: %+v, %v", o, err)
		}
		owned, err := s.OwnedStages(ctx, "d")
		if err != nil || len(owned) != 3 || owned["s2"] != 2 || owned["s7"] != 1 {
			t.Fatalf("d owns %v, %v", owned, err)
		}
	})
}

// UpdateComposition writes only for the registered node the composition
// is recorded as run by.
func TestUpdateComposition(t *testing.T) {
	backends(t, func(t *testing.T) {
		s, _ := openTemp(t)
		ctx := context.Background()
		arn := "arn:aws:ivs:us-east-1:123456789012:composition/c1"
		if _, err := s.Create(ctx, Resource{ARN: arn, Kind: KindComposition, State: "ACTIVE", Doc: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		set := func(state string) func(r *Resource) error {
			return func(r *Resource) error { r.State = state; return nil }
		}
		if err := s.UpdateComposition(ctx, arn, "a", set("STOPPED")); !errors.Is(err, ErrNotOwner) {
			t.Fatalf("no node recorded: %v", err)
		}
		if err := s.SetCompositionNode(ctx, arn, "a"); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateComposition(ctx, arn, "b", set("STOPPED")); !errors.Is(err, ErrNotOwner) {
			t.Fatalf("another node's: %v", err)
		}
		if r, _ := s.Get(ctx, arn); r.State != "ACTIVE" {
			t.Fatalf("written by a node that does not run it: %s", r.State)
		}
		if err := s.UpdateComposition(ctx, arn, "a", set("STOPPED")); !errors.Is(err, ErrNotOwner) {
			t.Fatalf("a node not registered: %v", err)
		}
		if err := s.RegisterNode(ctx, Node{ID: "a"}, time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateComposition(ctx, arn, "a", set("STOPPING")); err != nil {
			t.Fatal(err)
		}
		if r, _ := s.Get(ctx, arn); r.State != "STOPPING" {
			t.Fatalf("state %s after the running node's update", r.State)
		}
	})
}
