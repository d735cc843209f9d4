package testsrv

import (
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Screenshot captures the page once it says it is ready, at the size
// asked for: a page that turns red after half a second is red.
func TestScreenshot(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte(`<!doctype html><body style="margin:0;background:#00f">
<script>setTimeout(() => { document.body.style.background = "#f00"; document.body.dataset.ready = "1"; }, 500);</script>`))
	}))
	defer srv.Close()
	out := filepath.Join(t.TempDir(), "shot.png")
	if err := Screenshot(t, srv.URL, 400, 300, `document.body.dataset.ready === "1"`, 100*time.Millisecond, out); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 400 || b.Dy() != 300 {
		t.Errorf("screenshot %v, want 400×300", b)
	}
	r, g, b, _ := img.At(200, 150).RGBA()
	if r>>8 < 200 || g>>8 > 50 || b>>8 > 50 {
		t.Errorf("centre pixel %d,%d,%d; want red", r>>8, g>>8, b>>8)
	}
}
