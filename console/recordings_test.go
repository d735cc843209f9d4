package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tessera-media/tessera/output"
)

// putObjects writes objects into the env's folder storage, each modified
// at the time given.
func (e *env) putObjects(t *testing.T, bucket string, objects map[string]time.Time) {
	t.Helper()
	for key, mod := range objects {
		p := filepath.Join(e.storage.Root, bucket, filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("object "+key), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
}

// createStorage makes a storage configuration of bucket and returns its ARN.
func (e *env) createStorage(t *testing.T, bucket string) string {
	t.Helper()
	code, _, body := e.signed(t, "CreateStorageConfiguration", `{"s3":{"bucketName":"`+bucket+`"}}`)
	var out struct{ StorageConfiguration struct{ Arn string } }
	if err := json.Unmarshal(body, &out); code != http.StatusOK || err != nil {
		t.Fatalf("CreateStorageConfiguration: %d %s", code, body)
	}
	return out.StorageConfiguration.Arn
}

type recordingsPage struct {
	Bucket     string
	Recordings []recording
	Next       string
}

func (b *browser) recordings(storage, after string) (int, recordingsPage) {
	b.t.Helper()
	q := "storage=" + url.QueryEscape(storage)
	if after != "" {
		q += "&after=" + url.QueryEscape(after)
	}
	code, _, body := b.do("GET", "/console/recordings?"+q, nil)
	var page recordingsPage
	if code == http.StatusOK {
		if err := json.Unmarshal(body, &page); err != nil {
			b.t.Fatalf("recordings: %s", body)
		}
	}
	return code, page
}

// The recordings page lists a bucket's composite and participant
// recordings, newest first, with their state, playlist and first
// thumbnail, and serves their objects to a session that listed them.
func TestRecordings(t *testing.T) {
	e := startEnv(t, Config{})
	arn := e.createStorage(t, "rec")
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	comp := "st1/comp1/dest1/composite"
	part := "st1/sess1/part1/2026-12-01T10-05-00Z"
	live := "st1/sess1/part2/2026-12-01T10-06-00Z"
	e.putObjects(t, "rec", map[string]time.Time{
		comp + "/events/recording-started.json":              t0,
		comp + "/media/hls/multivariant.m3u8":                t0.Add(6 * time.Second),
		comp + "/media/hls/720p30-abc/playlist.m3u8":         t0.Add(6 * time.Second),
		comp + "/media/hls/720p30-abc/0.ts":                  t0.Add(6 * time.Second),
		comp + "/media/thumbnails/720p30-abc/0.jpg":          t0.Add(time.Second),
		comp + "/media/thumbnails/720p30-abc/1.jpg":          t0.Add(2 * time.Second),
		comp + "/events/recording-ended.json":                t0.Add(90 * time.Second),
		part + "/events/recording-started.json":              t0.Add(5 * time.Minute),
		part + "/media/hls/multivariant.m3u8":                t0.Add(5 * time.Minute),
		part + "/events/recording-failed.json":               t0.Add(7 * time.Minute),
		live + "/events/recording-started.json":              t0.Add(6 * time.Minute),
		"notes/readme.txt":                                   t0,
		"st1/comp9/dest9/composite/media/hls/other/0.ts":     t0, // no events: not a recording
		"st1/comp1/dest1/composite-copy/events/unknown.json": t0,
	})

	anon := e.browser(t)
	if code, _ := anon.recordings(arn, ""); code != http.StatusUnauthorized {
		t.Errorf("recordings without a session: %d, want 401", code)
	}
	if code, _, _ := anon.do("GET", "/console/recordings/media/"+filepath.Base(arn)+"/"+comp+"/media/hls/multivariant.m3u8", nil); code != http.StatusUnauthorized {
		t.Errorf("media without a session: %d, want 401", code)
	}
	b := e.browser(t).mustSignIn()
	media := "/console/recordings/media/" + filepath.Base(arn) + "/"
	if code, _, body := b.do("GET", media+comp+"/media/hls/multivariant.m3u8", nil); code != http.StatusNotFound || !strings.Contains(string(body), "list") {
		t.Errorf("media before listing: %d %s, want 404 asking to list first", code, body)
	}

	code, page := b.recordings(arn, "")
	if code != http.StatusOK || page.Bucket != "rec" || page.Next != "" {
		t.Fatalf("recordings: %d %+v", code, page)
	}
	var got []string
	for _, r := range page.Recordings {
		got = append(got, fmt.Sprintf("%s %s %s %s/%s/%s %v %s", r.Prefix, r.Kind, r.State, r.StageID, r.CompositionID+r.SessionID, r.DestinationID+r.ParticipantID,
			r.Playlist != "", r.Thumbnail))
	}
	want := []string{
		live + " participant RECORDING st1/sess1/part2 false ",
		part + " participant FAILED st1/sess1/part1 true ",
		comp + " composite ENDED st1/comp1/dest1 true " + comp + "/media/thumbnails/720p30-abc/0.jpg",
	}
	if !slices.Equal(got, want) {
		t.Errorf("recordings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if r := page.Recordings[2]; !r.StartedAt.Equal(t0) || r.EndedAt == nil || !r.EndedAt.Equal(t0.Add(90*time.Second)) {
		t.Errorf("composite recording from %v to %v, want %v to +90 s", r.StartedAt, r.EndedAt, t0)
	}

	code, h, body := b.do("GET", media+comp+"/media/hls/multivariant.m3u8", nil)
	if code != http.StatusOK || h.Get("Content-Type") != "application/vnd.apple.mpegurl" || h.Get("Cache-Control") != "no-store" ||
		string(body) != "object "+comp+"/media/hls/multivariant.m3u8" {
		t.Errorf("playlist: %d %q %q %q", code, h.Get("Content-Type"), h.Get("Cache-Control"), body)
	}
	if code, h, _ := b.do("GET", media+comp+"/media/hls/720p30-abc/0.ts", nil); code != http.StatusOK || h.Get("Content-Type") != "video/mp2t" {
		t.Errorf("segment: %d %q", code, h.Get("Content-Type"))
	}
	for _, key := range []string{"notes/readme.txt", comp + "/media/hls/720p30-abc/9.ts", "st1/../../x.ts", "%2e%2e/x.ts"} {
		if code, _, body := b.do("GET", media+key, nil); code != http.StatusNotFound {
			t.Errorf("media %s: %d %s, want 404", key, code, body)
		}
	}
	// Another session has to list first; an unknown storage configuration
	// is the API's refusal; a bucket with nothing in it lists nothing.
	other := e.browser(t).mustSignIn()
	if code, _, _ := other.do("GET", media+comp+"/media/hls/multivariant.m3u8", nil); code != http.StatusNotFound {
		t.Errorf("media in another session before it listed: %d, want 404", code)
	}
	if code, _, body := other.do("GET", "/console/recordings?storage="+url.QueryEscape(arn+"x"), nil); code != http.StatusNotFound ||
		!strings.Contains(string(body), "message") {
		t.Errorf("an unknown storage configuration: %d %s, want 404 with the API's message", code, body)
	}
	if code, page := other.recordings(e.createStorage(t, "empty"), ""); code != http.StatusOK || len(page.Recordings) != 0 {
		t.Errorf("an empty bucket: %d %+v", code, page)
	}
}

// A bucket larger than one listing's budget is read page by page: next
// says where the following page starts, and every recording is found once.
func TestRecordingsPaged(t *testing.T) {
	e := startEnv(t, Config{})
	e.con.scan = output.MaxList
	arn := e.createStorage(t, "big")
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	objects := map[string]time.Time{}
	for i := range 1500 {
		objects[fmt.Sprintf("st/c%04d/d/composite/events/recording-started.json", i)] = t0.Add(time.Duration(i) * time.Second)
	}
	e.putObjects(t, "big", objects)
	b := e.browser(t).mustSignIn()
	seen := map[string]bool{}
	after, pages := "", 0
	for {
		code, page := b.recordings(arn, after)
		if code != http.StatusOK {
			t.Fatalf("page %d: %d", pages, code)
		}
		pages++
		for _, r := range page.Recordings {
			if seen[r.Prefix] {
				t.Errorf("%s listed twice", r.Prefix)
			}
			seen[r.Prefix] = true
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	if pages != 2 || len(seen) != 1500 {
		t.Errorf("%d pages, %d recordings; want 2 pages, 1500", pages, len(seen))
	}
}
