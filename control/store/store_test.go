package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tessera-media/tessera/internal/testsrv"
)

const stageARN = "arn:aws:ivs:us-east-1:123456789012:stage/AbCdEf"

// postgres is the PostgreSQL server the tests share (TestMain), nil with
// -short.
var postgres *testsrv.Postgres

func TestMain(m *testing.M) {
	flag.Parse()
	if !testing.Short() {
		p, err := testsrv.NewPostgres()
		if err != nil {
			fmt.Fprintln(os.Stderr, "store tests:", err)
			os.Exit(1)
		}
		postgres = p
	}
	code := m.Run()
	if postgres != nil {
		if err := postgres.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "store tests:", err)
		}
	}
	os.Exit(code)
}

// backends runs test against SQLite and PostgreSQL, as subtests "sqlite"
// and "postgres" (skipped with -short); openTemp and where open the
// subtest's backend.
func backends(t *testing.T, test func(t *testing.T)) {
	t.Run("sqlite", test)
	t.Run("postgres", func(t *testing.T) {
		if postgres == nil {
			t.Skip("-short: no PostgreSQL")
		}
		test(t)
	})
}

// onPostgres reports whether t is a backends subtest on PostgreSQL.
func onPostgres(t testing.TB) bool { return strings.HasSuffix(t.Name(), "/postgres") }

// where returns a new, empty store location for t's backend: a SQLite
// file path, or the URL of a new PostgreSQL database.
func where(t testing.TB) string {
	t.Helper()
	if onPostgres(t) {
		u, err := postgres.CreateDatabase()
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	return filepath.Join(t.TempDir(), "data", "tessera.db")
}

func openTemp(t testing.TB) (*Store, string) {
	t.Helper()
	path := where(t)
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, path
}

func mustPut(t testing.TB, s *Store, r Resource) {
	t.Helper()
	if err := s.Put(context.Background(), r); err != nil {
		t.Fatal(err)
	}
}

func stage(id string) Resource {
	return Resource{
		ARN:  "arn:aws:ivs:us-east-1:123456789012:stage/" + id,
		Kind: KindStage, ID: id, Name: "stage " + id,
		Doc: []byte(`{"arn":"arn:aws:ivs:us-east-1:123456789012:stage/` + id + `"}`),
	}
}

func TestCRUD(t *testing.T) { backends(t, testCRUD) }

func testCRUD(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	created := time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.FixedZone("X", 3600))
	r := stage("AbCdEf")
	r.Created = created
	mustPut(t, s, r)

	got, err := s.Get(ctx, r.ARN)
	if err != nil {
		t.Fatal(err)
	}
	if got.ARN != r.ARN || got.Kind != KindStage || got.ID != "AbCdEf" || got.Name != r.Name ||
		got.Parent != "" || got.State != "" || !bytes.Equal(got.Doc, r.Doc) {
		t.Fatalf("Get = %+v, want %+v", got, r)
	}
	if !got.Created.Equal(created) || got.Created.Location() != time.UTC {
		t.Errorf("Created = %v, want %v in UTC", got.Created, created)
	}
	if got.Updated.IsZero() {
		t.Error("Updated not set")
	}

	// Replace: new fields, Created kept, tags kept.
	if err := s.SetTags(ctx, r.ARN, map[string]string{"env": "test"}); err != nil {
		t.Fatal(err)
	}
	r2 := r
	r2.Name, r2.State, r2.Doc = "renamed", "ACTIVE", []byte(`{"v":2}`)
	r2.Created = time.Now()
	mustPut(t, s, r2)
	got, err = s.Get(ctx, r.ARN)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "renamed" || got.State != "ACTIVE" || string(got.Doc) != `{"v":2}` {
		t.Errorf("after replace Get = %+v", got)
	}
	if !got.Created.Equal(created) {
		t.Errorf("replace changed Created to %v, want %v", got.Created, created)
	}
	if tags, _ := s.Tags(ctx, r.ARN); tags["env"] != "test" {
		t.Errorf("replace lost tags: %v", tags)
	}

	// Create refuses an existing ARN, accepts a new one.
	if _, err := s.Create(ctx, r); !errors.Is(err, ErrConflict) {
		t.Errorf("Create existing: %v, want ErrConflict", err)
	}
	c, err := s.Create(ctx, stage("New"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Created.IsZero() || c.Created.Location() != time.UTC {
		t.Errorf("Create returned Created %v", c.Created)
	}
	if g, _ := s.Get(ctx, c.ARN); !reflect.DeepEqual(g, c) {
		t.Errorf("Get after Create = %+v, Create returned %+v", g, c)
	}

	// Delete, then everything about it is gone.
	if err := s.Delete(ctx, r.ARN); err != nil {
		t.Fatal(err)
	}
	_, err = s.Get(ctx, r.ARN)
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get deleted: %v, want ErrNotFound", err)
	}
	if want := "store: get " + r.ARN + ": not found"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if err := s.Delete(ctx, r.ARN); !errors.Is(err, ErrNotFound) {
		t.Errorf("Delete deleted: %v, want ErrNotFound", err)
	}

	// Invalid resources.
	for name, bad := range map[string]Resource{
		"empty ARN":  {Kind: KindStage},
		"empty kind": {ARN: "arn:x"},
		"not JSON":   {ARN: "arn:x", Kind: KindStage, Doc: []byte("{")},
	} {
		if err := s.Put(ctx, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("Put %s: %v, want ErrInvalid", name, err)
		}
	}
	// An empty document is allowed.
	mustPut(t, s, Resource{ARN: "arn:empty", Kind: KindChannel})
	if g, err := s.Get(ctx, "arn:empty"); err != nil || len(g.Doc) != 0 {
		t.Errorf("empty doc: %+v, %v", g, err)
	}
}

// listAll pages through q and checks that no page is larger than the limit.
func listAll(t *testing.T, s *Store, q ListQuery) []string {
	t.Helper()
	var arns []string
	for page := 0; ; page++ {
		rs, next, err := s.List(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if q.Limit > 0 && len(rs) > q.Limit {
			t.Fatalf("page of %d > limit %d", len(rs), q.Limit)
		}
		for _, r := range rs {
			arns = append(arns, r.ARN)
		}
		if next == "" {
			return arns
		}
		if len(rs) == 0 {
			t.Fatal("empty page with a next cursor")
		}
		if page > 100 {
			t.Fatal("too many pages")
		}
		q.After = next
	}
}

func TestListPagination(t *testing.T) { backends(t, testListPagination) }

func testListPagination(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	stages := []string{stageARN, stageARN + "2"}
	states := []string{"STARTING", "ACTIVE", "STOPPED", "FAILED"}
	type item struct {
		arn, parent, state string
		created            time.Time
	}
	var items []item
	for i := range 47 {
		it := item{
			// ARNs out of creation order, and every third pair created in
			// the same nanosecond, so ordering must break ties by ARN.
			arn:     fmt.Sprintf("arn:aws:ivs:us-east-1:123456789012:composition/c%02d", (i*17)%47),
			parent:  stages[i%2],
			state:   states[i%4],
			created: base.Add(time.Duration(i/3) * time.Second),
		}
		items = append(items, it)
		mustPut(t, s, Resource{ARN: it.arn, Kind: KindComposition, Parent: it.parent, State: it.state,
			Created: it.created, Doc: []byte(`{}`)})
	}
	for _, id := range []string{"s1", "s2", "s3"} {
		mustPut(t, s, stage(id))
	}
	slices.SortFunc(items, func(a, b item) int {
		if c := a.created.Compare(b.created); c != 0 {
			return c
		}
		return strings.Compare(a.arn, b.arn)
	})
	want := func(parent, state string) []string {
		var out []string
		for _, it := range items {
			if (parent == "" || it.parent == parent) && (state == "" || it.state == state) {
				out = append(out, it.arn)
			}
		}
		return out
	}

	for _, limit := range []int{1, 5, 7, 47, 0} {
		for _, parent := range []string{"", stages[0], stages[1], "arn:none"} {
			for _, state := range []string{"", "ACTIVE", "STOPPED"} {
				got := listAll(t, s, ListQuery{Kind: KindComposition, Parent: parent, State: state, Limit: limit})
				if w := want(parent, state); !slices.Equal(got, w) {
					t.Errorf("limit %d parent %q state %q:\n got %v\nwant %v", limit, parent, state, got, w)
				}
			}
		}
	}
	if got := listAll(t, s, ListQuery{Kind: KindStage, Limit: 2}); len(got) != 3 {
		t.Errorf("stages: %v", got)
	}
	if got := listAll(t, s, ListQuery{Kind: "nothing"}); len(got) != 0 {
		t.Errorf("unknown kind: %v", got)
	}

	// A cursor stays valid while resources are added and removed: no
	// duplicates, nothing that existed throughout is skipped.
	page1, next, err := s.List(ctx, ListQuery{Kind: KindComposition, Limit: 10})
	if err != nil || next == "" {
		t.Fatal(next, err)
	}
	if err := s.Delete(ctx, page1[9].ARN); err != nil { // the cursor's own row
		t.Fatal(err)
	}
	mustPut(t, s, Resource{ARN: "arn:late", Kind: KindComposition, Created: base.Add(time.Hour)})
	rest := listAll(t, s, ListQuery{Kind: KindComposition, Limit: 10, After: next})
	var all []string
	for _, r := range page1 {
		all = append(all, r.ARN)
	}
	all = append(all, rest...)
	if w := append(want("", ""), "arn:late"); !slices.Equal(all, w) {
		t.Errorf("paging while changing:\n got %v\nwant %v", all, w)
	}

	// Bad queries.
	if _, _, err := s.List(ctx, ListQuery{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("no kind: %v", err)
	}
	for _, c := range []string{"!!!", encodeCursor("e", "5"), encodeCursor("r", "x", "arn")} {
		if _, _, err := s.List(ctx, ListQuery{Kind: KindComposition, After: c}); !errors.Is(err, ErrInvalid) {
			t.Errorf("cursor %q: %v, want ErrInvalid", c, err)
		}
	}
	// Limits: default and cap.
	for i := range DefaultLimit + 5 {
		mustPut(t, s, Resource{ARN: fmt.Sprintf("arn:tok/%03d", i), Kind: KindParticipantToken})
	}
	if rs, next, _ := s.List(ctx, ListQuery{Kind: KindParticipantToken}); len(rs) != DefaultLimit || next == "" {
		t.Errorf("default limit: %d items, next %q", len(rs), next)
	}
	if rs, next, _ := s.List(ctx, ListQuery{Kind: KindParticipantToken, Limit: MaxLimit + 1}); len(rs) != DefaultLimit+5 || next != "" {
		t.Errorf("large limit: %d items, next %q", len(rs), next)
	}
}

func TestCount(t *testing.T) { backends(t, testCount) }

func testCount(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	for i, st := range []string{"ACTIVE", "STARTING", "STOPPED", "ACTIVE", "FAILED"} {
		parent := stageARN
		if i == 4 {
			parent = "arn:other"
		}
		mustPut(t, s, Resource{ARN: fmt.Sprint("arn:c", i), Kind: KindComposition, Parent: parent, State: st})
	}
	mustPut(t, s, stage("x"))
	for _, c := range []struct {
		kind, parent string
		states       []string
		want         int
	}{
		{KindComposition, "", nil, 5},
		{KindComposition, stageARN, nil, 4},
		{KindComposition, stageARN, []string{"ACTIVE", "STARTING"}, 3},
		{KindComposition, "", []string{"FAILED"}, 1},
		{KindComposition, "arn:none", nil, 0},
		{KindStage, "", nil, 1},
	} {
		n, err := s.Count(ctx, c.kind, c.parent, c.states...)
		if err != nil || n != c.want {
			t.Errorf("Count(%q, %q, %v) = %d, %v; want %d", c.kind, c.parent, c.states, n, err, c.want)
		}
	}
	if _, err := s.Count(ctx, "", ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("Count no kind: %v", err)
	}
}

func TestTags(t *testing.T) { backends(t, testTags) }

func testTags(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	r := stage("t")
	mustPut(t, s, r)
	if tags, err := s.Tags(ctx, r.ARN); err != nil || tags == nil || len(tags) != 0 {
		t.Fatalf("no tags: %v, %v", tags, err)
	}
	if err := s.SetTags(ctx, r.ARN, map[string]string{"a": "1", "b": "2"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetTags(ctx, r.ARN, map[string]string{"b": "20", "c": "3"}); err != nil {
		t.Fatal(err)
	}
	check := func(want map[string]string) {
		t.Helper()
		got, err := s.Tags(ctx, r.ARN)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("Tags = %v, %v; want %v", got, err, want)
		}
	}
	check(map[string]string{"a": "1", "b": "20", "c": "3"})
	if err := s.RemoveTags(ctx, r.ARN, []string{"a", "missing"}); err != nil {
		t.Fatal(err)
	}
	check(map[string]string{"b": "20", "c": "3"})

	// Another resource's tags are separate.
	other := stage("o")
	mustPut(t, s, other)
	if err := s.SetTags(ctx, other.ARN, map[string]string{"b": "other"}); err != nil {
		t.Fatal(err)
	}
	check(map[string]string{"b": "20", "c": "3"})

	// Missing resource.
	if err := s.SetTags(ctx, "arn:none", map[string]string{"a": "1"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetTags missing: %v", err)
	}
	if err := s.RemoveTags(ctx, "arn:none", []string{"a"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("RemoveTags missing: %v", err)
	}
	if _, err := s.Tags(ctx, "arn:none"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Tags missing: %v", err)
	}

	// Cascade: deleting the resource deletes its tags, and a resource
	// created again with the same ARN starts without them.
	if err := s.Delete(ctx, r.ARN); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM tags WHERE arn = ?`), r.ARN).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d tags left after delete (%v)", n, err)
	}
	mustPut(t, s, r)
	check(map[string]string{})
	if tags, _ := s.Tags(ctx, other.ARN); tags["b"] != "other" {
		t.Errorf("other's tags: %v", tags)
	}
}

func TestPutIdempotent(t *testing.T) { backends(t, testPutIdempotent) }

func testPutIdempotent(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	comp := func(id string) Resource {
		return Resource{ARN: "arn:composition/" + id, Kind: KindComposition, ID: id, Parent: stageARN,
			State: "STARTING", Doc: []byte(`{"id":"` + id + `"}`)}
	}
	first, created, err := s.PutIdempotent(ctx, "StartComposition/tok1", "h1", comp("c1"))
	if err != nil || !created || first.ARN != "arn:composition/c1" || first.Created.IsZero() {
		t.Fatalf("first: %+v, %v, %v", first, created, err)
	}
	// A retry with a freshly generated ARN gets the first resource back.
	again, created, err := s.PutIdempotent(ctx, "StartComposition/tok1", "h1", comp("c2"))
	if err != nil || created || !reflect.DeepEqual(again, first) {
		t.Fatalf("retry: %+v, %v, %v; want %+v", again, created, err, first)
	}
	if _, err := s.Get(ctx, "arn:composition/c2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("retry stored its resource: %v", err)
	}
	// The retry sees the resource as it is now.
	if err := s.Update(ctx, first.ARN, func(r *Resource) error { r.State = "ACTIVE"; return nil }); err != nil {
		t.Fatal(err)
	}
	if again, _, _ := s.PutIdempotent(ctx, "StartComposition/tok1", "h1", comp("c3")); again.State != "ACTIVE" {
		t.Errorf("retry after update: state %q", again.State)
	}
	// Same key, different request.
	if _, _, err := s.PutIdempotent(ctx, "StartComposition/tok1", "h2", comp("c4")); !errors.Is(err, ErrConflict) {
		t.Errorf("different hash: %v, want ErrConflict", err)
	}
	// A new key whose ARN already exists.
	if _, _, err := s.PutIdempotent(ctx, "StartComposition/tok2", "h1", comp("c1")); !errors.Is(err, ErrConflict) {
		t.Errorf("existing ARN: %v, want ErrConflict", err)
	}
	// ... and the failed attempt did not record the key.
	if _, created, err := s.PutIdempotent(ctx, "StartComposition/tok2", "h9", comp("c5")); err != nil || !created {
		t.Errorf("key after failed attempt: %v, %v", created, err)
	}
	// The key outlives its resource, which is not created again.
	if err := s.Delete(ctx, first.ARN); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.PutIdempotent(ctx, "StartComposition/tok1", "h1", comp("c6")); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted: %v, want ErrNotFound", err)
	}
	if _, _, err := s.PutIdempotent(ctx, "", "h", comp("c7")); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty key: %v", err)
	}

	// Concurrent first requests with one key: exactly one creates.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var nCreated int
	arns := map[string]bool{}
	for i := range 20 {
		wg.Go(func() {
			r, created, err := s.PutIdempotent(ctx, "StartComposition/race", "h", comp(fmt.Sprint("race", i)))
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			arns[r.ARN] = true
			if created {
				nCreated++
			}
		})
	}
	wg.Wait()
	if nCreated != 1 || len(arns) != 1 {
		t.Errorf("concurrent: %d created, ARNs %v", nCreated, arns)
	}
}

func TestUpdate(t *testing.T) { backends(t, testUpdate) }

func testUpdate(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	old := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	r := Resource{ARN: "arn:composition/c", Kind: KindComposition, State: "STARTING",
		Created: old, Updated: old, Doc: []byte(`{"n":0}`)}
	mustPut(t, s, r)

	// 20 goroutines each increment a counter in the document 25 times:
	// no update may be lost.
	const workers, each = 20, 25
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				err := s.Update(ctx, r.ARN, func(r *Resource) error {
					var d struct{ N int }
					if err := json.Unmarshal(r.Doc, &d); err != nil {
						return err
					}
					d.N++
					b, err := json.Marshal(map[string]int{"n": d.N})
					r.Doc = b
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	// Readers run alongside the writers.
	for range 4 {
		wg.Go(func() {
			for range 50 {
				if _, err := s.Get(ctx, r.ARN); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	got, err := s.Get(ctx, r.ARN)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf(`{"n":%d}`, workers*each); string(got.Doc) != want {
		t.Errorf("doc = %s, want %s", got.Doc, want)
	}
	if !got.Updated.After(old) || !got.Created.Equal(old) {
		t.Errorf("Created %v, Updated %v", got.Created, got.Updated)
	}

	// fn's own error aborts and comes back as it is.
	errStop := errors.New("stop")
	if err := s.Update(ctx, r.ARN, func(r *Resource) error { r.State = "X"; return errStop }); err != errStop {
		t.Errorf("fn error: %v", err)
	}
	if g, _ := s.Get(ctx, r.ARN); g.State != "STARTING" {
		t.Errorf("aborted update stored state %q", g.State)
	}
	// An explicit Updated is kept.
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := s.Update(ctx, r.ARN, func(r *Resource) error { r.State, r.Updated = "ACTIVE", at; return nil }); err != nil {
		t.Fatal(err)
	}
	if g, _ := s.Get(ctx, r.ARN); g.State != "ACTIVE" || !g.Updated.Equal(at) {
		t.Errorf("after update: %+v", g)
	}
	// Missing, ARN change, invalid doc.
	called := false
	if err := s.Update(ctx, "arn:none", func(*Resource) error { called = true; return nil }); !errors.Is(err, ErrNotFound) || called {
		t.Errorf("missing: %v (fn called %v)", err, called)
	}
	if err := s.Update(ctx, r.ARN, func(r *Resource) error { r.ARN = "arn:new"; return nil }); !errors.Is(err, ErrInvalid) {
		t.Errorf("ARN change: %v", err)
	}
	if err := s.Update(ctx, r.ARN, func(r *Resource) error { r.Doc = []byte("nope"); return nil }); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad doc: %v", err)
	}
	if _, err := s.Get(ctx, "arn:new"); !errors.Is(err, ErrNotFound) {
		t.Errorf("ARN change stored: %v", err)
	}
}

func TestEvents(t *testing.T) { backends(t, testEvents) }

func testEvents(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	st := stage("ev")
	mustPut(t, s, st)
	base := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	type ev struct{ session, participant string }
	var appended []ev
	for i := range 30 {
		e := ev{fmt.Sprint("st-", i%2), fmt.Sprint("p", i%3)}
		appended = append(appended, e)
		doc := fmt.Sprintf(`{"i":%d}`, i)
		if err := s.AppendEvent(ctx, st.ARN, e.session, e.participant, []byte(doc), base.Add(time.Duration(i)*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	all := func(session, participant string, limit int) []Event {
		var out []Event
		after := ""
		for {
			page, next, err := s.Events(ctx, st.ARN, session, participant, after, limit)
			if err != nil {
				t.Fatal(err)
			}
			if limit > 0 && len(page) > limit {
				t.Fatalf("page of %d > %d", len(page), limit)
			}
			out = append(out, page...)
			if next == "" {
				return out
			}
			after = next
		}
	}
	for _, limit := range []int{1, 4, 0} {
		for _, f := range []ev{{"", ""}, {"st-1", ""}, {"st-0", "p2"}, {"", "p1"}, {"st-9", ""}} {
			got := all(f.session, f.participant, limit)
			var want []string
			for i, e := range appended {
				if (f.session == "" || e.session == f.session) && (f.participant == "" || e.participant == f.participant) {
					want = append(want, fmt.Sprintf(`{"i":%d}`, i))
				}
			}
			var docs []string
			for _, e := range got {
				docs = append(docs, string(e.Doc))
				if e.StageARN != st.ARN || (f.session != "" && e.SessionID != f.session) ||
					(f.participant != "" && e.ParticipantID != f.participant) {
					t.Errorf("event %+v does not match filter %+v", e, f)
				}
			}
			if !slices.Equal(docs, want) {
				t.Errorf("limit %d filter %+v:\n got %v\nwant %v", limit, f, docs, want)
			}
		}
	}
	if e := all("", "", 0); !e[7].At.Equal(base.Add(7*time.Millisecond)) || e[7].ParticipantID != "p1" {
		t.Errorf("event 7 = %+v", e[7])
	}
	if err := s.AppendEvent(ctx, "arn:none", "s", "p", nil, time.Time{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown stage: %v", err)
	}
	if err := s.AppendEvent(ctx, st.ARN, "s", "p", []byte("x"), time.Time{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad doc: %v", err)
	}
	if _, _, err := s.Events(ctx, st.ARN, "", "", encodeCursor("r", "1", "a"), 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("resource cursor for events: %v", err)
	}
	// Events go with their stage.
	if err := s.Delete(ctx, st.ARN); err != nil {
		t.Fatal(err)
	}
	if e := all("", "", 0); len(e) != 0 {
		t.Errorf("%d events left after deleting the stage", len(e))
	}
}

// TestPersistence is the restart requirement: everything written before
// Close is there after Open, and reopening does not re-run migrations.
func TestPersistence(t *testing.T) { backends(t, testPersistence) }

func testPersistence(t *testing.T) {
	ctx := context.Background()
	path := where(t)
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	st := stage("persist")
	mustPut(t, s, st)
	comp, _, err := s.PutIdempotent(ctx, "StartComposition/tok", "h", Resource{ARN: "arn:composition/p", Kind: KindComposition,
		Parent: st.ARN, State: "STARTING", Doc: []byte(`{"a":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, comp.ARN, func(r *Resource) error { r.State = "ACTIVE"; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.SetTags(ctx, st.ARN, map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendEvent(ctx, st.ARN, "sess", "part", []byte(`{"eventType":"JOINED"}`), time.Time{}); err != nil {
		t.Fatal(err)
	}
	before, _, err := s.List(ctx, ListQuery{Kind: KindComposition})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	for reopen := range 3 {
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatalf("reopen %d: %v", reopen, err)
		}
		after, _, err := s.List(ctx, ListQuery{Kind: KindComposition})
		if err != nil || !reflect.DeepEqual(after, before) || after[0].State != "ACTIVE" {
			t.Errorf("reopen %d: compositions %+v, %v; want %+v", reopen, after, err, before)
		}
		if g, err := s.Get(ctx, st.ARN); err != nil || !bytes.Equal(g.Doc, st.Doc) {
			t.Errorf("reopen %d: stage %+v, %v", reopen, g, err)
		}
		if tags, err := s.Tags(ctx, st.ARN); err != nil || tags["k"] != "v" {
			t.Errorf("reopen %d: tags %v, %v", reopen, tags, err)
		}
		if ev, _, err := s.Events(ctx, st.ARN, "sess", "part", "", 0); err != nil || len(ev) != 1 || string(ev[0].Doc) != `{"eventType":"JOINED"}` {
			t.Errorf("reopen %d: events %+v, %v", reopen, ev, err)
		}
		if r, created, err := s.PutIdempotent(ctx, "StartComposition/tok", "h", Resource{ARN: "arn:other", Kind: KindComposition}); err != nil || created || r.ARN != comp.ARN {
			t.Errorf("reopen %d: idempotency key lost: %+v %v %v", reopen, r, created, err)
		}
		var versions []int
		rows, err := s.r.QueryContext(ctx, `SELECT version FROM schema_version ORDER BY version`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			versions = append(versions, v)
		}
		rows.Close()
		if len(versions) != len(migrations) || versions[len(versions)-1] != len(migrations) {
			t.Errorf("reopen %d: schema versions %v, want 1..%d", reopen, versions, len(migrations))
		}
		if onPostgres(t) {
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			continue // the rest are SQLite's settings
		}
		var mode string
		var fk int
		if err := s.w.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
			t.Errorf("journal_mode %q, %v", mode, err)
		}
		if err := s.w.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
			t.Errorf("foreign_keys %d, %v", fk, err)
		}
		var syncMode, busy int
		if err := s.w.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&syncMode); err != nil || syncMode != 2 {
			t.Errorf("synchronous %d (want 2, FULL), %v", syncMode, err)
		}
		if err := s.r.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&busy); err != nil || busy != int(busyTimeout.Milliseconds()) {
			t.Errorf("reader busy_timeout %d, %v", busy, err)
		}
		if _, err := s.r.ExecContext(ctx, `DELETE FROM resources`); err == nil {
			t.Error("a reader connection could write")
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()

	notDB := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notDB, bytes.Repeat([]byte("this is not a database\n"), 100), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(ctx, notDB)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), notDB) {
		t.Errorf("text file: %v, want ErrCorrupt naming the file", err)
	} else {
		t.Log(err)
	}

	// A real database whose schema page is overwritten.
	damaged := filepath.Join(dir, "damaged.db")
	s, err := Open(ctx, damaged)
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, stage("d"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(damaged, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xa5}, 3000), 100); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = Open(ctx, damaged)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), damaged) {
		t.Errorf("damaged file: %v, want ErrCorrupt naming the file", err)
	} else {
		t.Log(err)
	}

	// A database from a newer Tessera.
	newer := filepath.Join(dir, "newer.db")
	s, err = Open(ctx, newer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO schema_version (version, applied) VALUES (?, 0)`, len(migrations)+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(ctx, newer); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("newer schema: %v", err)
	}

	if _, err := Open(ctx, dir); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("directory: %v", err)
	}
	if _, err := Open(ctx, ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty path: %v", err)
	}
}

// TestOpenOddPath: characters that mean something in a SQLite URI.
func TestOpenOddPath(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "a?b=c#d%20e f")
	path := filepath.Join(dir, "x.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, stage("odd"))
	s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at %s: %v", path, err)
	}
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Get(ctx, stage("odd").ARN); err != nil {
		t.Error(err)
	}
}

// TestTwoStores: two Stores on one file (as two processes would be) both
// write, waiting on SQLite's lock rather than failing with "database is
// locked".
func TestTwoStores(t *testing.T) { backends(t, testTwoStores) }

func testTwoStores(t *testing.T) {
	ctx := context.Background()
	a, path := openTemp(t)
	b, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	mustPut(t, a, Resource{ARN: "arn:counter", Kind: KindChannel, Doc: []byte(`0`)})
	var wg sync.WaitGroup
	for _, s := range []*Store{a, b, a, b} {
		wg.Go(func() {
			for range 25 {
				err := s.Update(ctx, "arn:counter", func(r *Resource) error {
					var n int
					if err := json.Unmarshal(r.Doc, &n); err != nil {
						return err
					}
					r.Doc = fmt.Append(nil, n+1)
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if r, err := b.Get(ctx, "arn:counter"); err != nil || string(r.Doc) != "100" {
		t.Errorf("counter = %s, %v; want 100", r.Doc, err)
	}
}

func TestDialects(t *testing.T) {
	q := `SELECT a FROM t WHERE b = ? AND c IN (` + placeholders(3) + `) LIMIT ?`
	if got := sqliteDialect.rebind(q); got != q {
		t.Errorf("sqlite rebind changed the query: %s", got)
	}
	if got, want := postgresDialect.rebind(q), `SELECT a FROM t WHERE b = $1 AND c IN ($2, $3, $4) LIMIT $5`; got != want {
		t.Errorf("postgres rebind = %s, want %s", got, want)
	}
	if placeholders(0) != "" || placeholders(1) != "?" {
		t.Error("placeholders")
	}
	for _, m := range migrations {
		for _, stmt := range m {
			if strings.Contains(postgresDialect.ddl(stmt), "{{") || strings.Contains(postgresDialect.ddl(stmt), "INTEGER PRIMARY KEY") {
				t.Errorf("postgres DDL: %s", postgresDialect.ddl(stmt))
			}
		}
	}
}

func BenchmarkPut(b *testing.B) {
	s, _ := openTemp(b)
	ctx := context.Background()
	doc := []byte(`{"arn":"arn:aws:ivs:us-east-1:123456789012:stage/x","name":"bench","tags":{}}`)
	i := 0
	for b.Loop() {
		i++
		if err := s.Put(ctx, Resource{ARN: fmt.Sprint("arn:stage/", i), Kind: KindStage, Doc: doc}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGet(b *testing.B) {
	s, _ := openTemp(b)
	ctx := context.Background()
	for i := range 1000 {
		mustPut(b, s, Resource{ARN: fmt.Sprint("arn:stage/", i), Kind: KindStage, Doc: []byte(`{}`)})
	}
	i := 0
	for b.Loop() {
		i++
		if _, err := s.Get(ctx, fmt.Sprint("arn:stage/", i%1000)); err != nil {
			b.Fatal(err)
		}
	}
}

// A store named by a URL with a password is named without it.
func TestRedact(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := Open(ctx, "postgres://tessera:s3cret@127.0.0.1:1/db?sslmode=disable")
	if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "postgres://tessera:xxxxx@127.0.0.1:1/db") {
		t.Errorf("opening an unreachable server: %v; want an error naming it without the password", err)
	}
}
