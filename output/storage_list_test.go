package output

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tessera-media/tessera/internal/testsrv"
)

// listers are the Storages that are Listers, each with a bucket "rec":
// a folder, gofakes3 and (but with -short) versitygw.
func listers(t *testing.T) map[string]interface {
	Storage
	Lister
} {
	folder, err := NewFolderStorage(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(folder.Root, "rec"), 0o755); err != nil {
		t.Fatal(err)
	}
	m := map[string]interface {
		Storage
		Lister
	}{"folder": folder, "gofakes3": newGofakeServer(t, "rec").storage(t)}
	if !testing.Short() {
		// versitygw checks SigV4 as S3 does.
		gw := testsrv.StartVersityGW(t, "")
		gw.CreateBucket("rec")
		st, err := NewS3Storage(S3Config{Endpoint: gw.Endpoint(), Region: gw.Region, PathStyle: true, AccessKeyID: gw.AccessKey,
			SecretAccessKey: gw.SecretKey, RequestTimeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		m["versitygw"] = st
	}
	return m
}

// Both storages list in key order by prefix, page with after, and read
// back what was put; a missing object or bucket is ErrNoObject.
func TestListerListsAndOpens(t *testing.T) {
	keys := []string{
		"s1/c1/d1/composite/events/recording-started.json",
		"s1/c1/d1/composite/media/hls/multivariant.m3u8",
		"s1/c1/d1/composite/media/hls/720p30-abc/0.ts",
		"s1/c1/d1/composite-x.json", // '-' sorts before '/'
		"s1/c2/d1/composite/events/recording-started.json",
		"s2/top.json",
	}
	for name, st := range listers(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			for _, k := range keys {
				body := []byte("object " + k)
				if err := st.Put(ctx, "rec", k, bytes.NewReader(body), int64(len(body)), ""); err != nil {
					t.Fatal(err)
				}
			}
			list := func(prefix, after string, max int) ([]string, bool) {
				t.Helper()
				objs, more, err := st.List(ctx, "rec", prefix, after, max)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, o := range objs {
					if o.Size != int64(len("object "+o.Key)) || o.Modified.IsZero() {
						t.Errorf("%s: size %d, modified %v", o.Key, o.Size, o.Modified)
					}
					got = append(got, o.Key)
				}
				return got, more
			}
			sorted := slices.Clone(keys)
			slices.Sort(sorted)
			if got, more := list("", "", 1000); !slices.Equal(got, sorted) || more {
				t.Errorf("all: %q more %v; want %q", got, more, sorted)
			}
			var paged []string
			after := ""
			for range len(keys) + 1 {
				got, more := list("", after, 2)
				paged = append(paged, got...)
				if !more {
					break
				}
				after = got[len(got)-1]
			}
			if !slices.Equal(paged, sorted) {
				t.Errorf("paged by 2: %q; want %q", paged, sorted)
			}
			if got, _ := list("s1/c1/d1/composite/", "", 1000); len(got) != 3 || !strings.HasPrefix(got[0], "s1/c1/d1/composite/events/") {
				t.Errorf("prefix s1/c1/d1/composite/: %q", got)
			}
			if got, _ := list("s1/c1/d1/comp", "", 1000); len(got) != 4 {
				t.Errorf("prefix s1/c1/d1/comp: %q; want 4 keys", got)
			}
			if got, more := list("s3/", "", 1000); len(got) != 0 || more {
				t.Errorf("prefix s3/: %q more %v; want nothing", got, more)
			}
			rc, obj, err := st.Open(ctx, "rec", keys[1])
			if err != nil {
				t.Fatal(err)
			}
			data, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || string(data) != "object "+keys[1] || obj.Size != int64(len(data)) || obj.Key != keys[1] {
				t.Errorf("open %s: %q %+v %v", keys[1], data, obj, err)
			}
			for _, miss := range [][2]string{{"rec", "s1/none.json"}, {"rec", "s1/c1"}, {"nobucket", "a.json"}} {
				if _, _, err := st.Open(ctx, miss[0], miss[1]); !errors.Is(err, ErrNoObject) {
					t.Errorf("open %s/%s: %v; want ErrNoObject", miss[0], miss[1], err)
				}
			}
			if _, _, err := st.List(ctx, "rec", "", "", 0); err == nil {
				t.Error("a list of 0 objects was not refused")
			}
			if _, _, err := st.Open(ctx, "rec", "../x"); !errors.Is(err, ErrInvalidName) {
				t.Errorf("open ../x: %v; want ErrInvalidName", err)
			}
		})
	}
}

// A folder's temporary files (Puts in progress) are not listed.
func TestFolderListSkipsTemporaryFiles(t *testing.T) {
	st, err := NewFolderStorage(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("x")
	if err := st.Put(context.Background(), "rec", "a/b.json", bytes.NewReader(body), 1, ""); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(st.Root, "rec", "a", ".c.ts.tmp-123"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	objs, _, err := st.List(context.Background(), "rec", "a/", "", 10)
	if err != nil || len(objs) != 1 || objs[0].Key != "a/b.json" {
		t.Errorf("list: %+v %v; want a/b.json alone", objs, err)
	}
}
