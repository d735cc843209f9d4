package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tessera-media/tessera/layout"
)

// runCmd runs the command in-process from the repository root.
func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestJSONMatchesArrange(t *testing.T) {
	t.Chdir("../..")
	code, out, errs := runCmd(t, "-json", "-participants", "3", "-attr", "2:featured=true", "-stopped", "3", "examples/featured.json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var d dump
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("output is not the documented JSON: %v\n%s", err, out)
	}
	ps := []layout.Participant{
		{ID: "p1", Arrival: 1, Video: layout.Size{W: 1280, H: 720}},
		{ID: "p2", Arrival: 2, Video: layout.Size{W: 1280, H: 720}, Attributes: map[string]string{"featured": "true"}},
		{ID: "p3", Arrival: 3, Video: layout.Size{W: 1280, H: 720}, VideoStopped: true},
	}
	want := layout.Arrange(layout.Size{W: 1280, H: 720},
		layout.Config{Grid: &layout.GridConfig{FeaturedParticipantAttribute: "featured", GridGap: new(4)}}, ps)
	if d.Canvas.Width != 1280 || d.Canvas.Height != 720 || len(d.Slots) != len(want) {
		t.Fatalf("got %+v, want %d slots on 1280x720", d, len(want))
	}
	for i, w := range want {
		g := d.Slots[i]
		if g.Participant != w.Participant || g.Role != string(w.Role) || g.Fill != string(w.Fill) || g.Z != w.Z ||
			(layout.Rect{X: g.X, Y: g.Y, W: g.Width, H: g.Height}) != w.Rect {
			t.Errorf("slot %d = %+v, want %+v", i, g, w)
		}
	}
	if d.Slots[1].Role != "featured" || d.Slots[2].Role != "placeholder" {
		t.Errorf("roles: %+v", d.Slots)
	}
}

func TestFlagsOverrideFile(t *testing.T) {
	t.Chdir("../..")
	_, out, _ := runCmd(t, "-json", "-participants", "2", "-grid-gap", "0", "-aspect", "AUTO", "examples/grid.json")
	var d dump
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	if d.Slots[0].Width != 640 || d.Slots[1].X != 640 {
		t.Errorf("gap 0 AUTO from flags not applied: %+v", d.Slots)
	}
	_, out, _ = runCmd(t, "-json", "-participants", "3", "-layout", "pip", "-pip-position", "TOP_LEFT", "-pip-width", "200", "-pip-height", "100")
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	if last := d.Slots[len(d.Slots)-1]; last.Role != "pip" || last.X != 0 || last.Y != 0 || last.Width != 200 || last.Height != 100 || last.Z != 1 {
		t.Errorf("pip from flags: %+v", last)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-canvas", "1281x720"}, "must be even"},
		{[]string{"-canvas", "4000x720"}, "2 to 1920"},
		{[]string{"-canvas", "1920x1200"}, "at most 2073600"},
		{[]string{"-canvas", "wide"}, "is not WxH"},
		{[]string{"-grid-gap", "-2"}, "Value '-2' at 'layout.grid.gridGap' failed to satisfy constraint"},
		{[]string{"-fill", "STRETCH"}, "enum value set: [FILL, COVER, CONTAIN]"},
		{[]string{"-aspect", "wide"}, "layout.grid.videoAspectRatio"},
		{[]string{"-layout", "pip", "-pip-position", "MIDDLE"}, "layout.pip.pipPosition"},
		{[]string{"-layout", "pip", "-pip-width", "0"}, "layout.pip.pipWidth"},
		{[]string{"-layout", "pip", "-aspect", "AUTO"}, "grid layout only"},
		{[]string{"-pip-offset", "4"}, "pip layout only"},
		{[]string{"-layout", "mosaic"}, "want grid or pip"},
		{[]string{"-participants", "-1"}, "want 0 to 100"},
		{[]string{"-attr", "5:featured=true"}, "participant 5 does not exist"},
		{[]string{"-attr", "1:featured"}, "want I:key=value"},
		{[]string{"-attr", "featured=true"}, "want a participant number"},
		{[]string{"-source", "1:0x720"}, "from 1 to 8192"},
		{[]string{"-stopped", "x"}, "want a participant number"},
		{[]string{"-nosuchflag"}, "flag provided but not defined"},
		{[]string{"a.json", "b.json"}, "one request file at most"},
		{[]string{filepath.Join(dir, "missing.json")}, "no such file"},
		{[]string{write("bad.json", `{"layout": `)}, "not a JSON object"},
		{[]string{write("unknown.json", `{"layout": {"grid": {"gap": 3}}}`)}, `unknown field "gap"`},
		{[]string{write("top.json", `{"layuot": {}}`)}, `unknown member "layuot"`},
		{[]string{write("type.json", `{"layout": {"grid": {"gridGap": "2"}}}`)}, "cannot unmarshal string"},
		{[]string{write("enum.json", `{"layout": {"pip": {"pipBehavior": "FLOATING"}}}`)}, "layout.pip.pipBehavior"},
		{[]string{write("both.json", `{"layout": {"grid": {}, "pip": {}}}`)}, "only one of grid or pip"},
		{[]string{"-layout", "grid", write("pip.json", `{"layout": {"pip": {}}}`)}, "has a pip layout"},
	}
	for _, tt := range tests {
		code, out, errs := runCmd(t, tt.args...)
		if code != 2 || out != "" || !strings.Contains(errs, tt.want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and one line with %q", tt.args, code, out, errs, tt.want)
		}
	}
}

func TestUnwritableOutput(t *testing.T) {
	code, _, errs := runCmd(t, "-o", filepath.Join(t.TempDir(), "no", "such", "dir.png"))
	if code != 1 || !strings.Contains(errs, "no such file or directory") {
		t.Errorf("exit %d %q, want 1", code, errs)
	}
}

func TestHelp(t *testing.T) {
	code, _, errs := runCmd(t, "-h")
	if code != 0 || !strings.Contains(errs, "Usage: layout-dump") || !strings.Contains(errs, "-pip-position") {
		t.Errorf("exit %d, help %q", code, errs)
	}
}

func decodePNG(t *testing.T, path string) *image.RGBA {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	rgba, ok := img.(*image.RGBA)
	if !ok {
		b := img.Bounds()
		rgba = image.NewRGBA(b)
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				rgba.Set(x, y, img.At(x, y))
			}
		}
	}
	return rgba
}

// Colours the compositor paints: its default background and placeholder tiles.
var (
	background  = color.RGBA{0, 0, 0, 255}
	placeholder = color.RGBA{38, 38, 42, 255}
)

// same compares colours to within the I420 round trip (±3 per channel).
func same(c color.Color, want color.RGBA) bool {
	r, g, b, _ := c.RGBA()
	near := func(a uint32, w uint8) bool { d := int(a>>8) - int(w); return d >= -3 && d <= 3 }
	return near(r, want.R) && near(g, want.G) && near(b, want.B)
}

// The preview shows what the layout means: bars for CONTAIN, no bars for
// COVER, placeholders, the PiP outline, labels.
func TestPNGPreview(t *testing.T) {
	out := filepath.Join(t.TempDir(), "p.png")
	// Two 4:3 participants side by side with CONTAIN: 638x360 tiles → 480x360 pictures with bars.
	code, _, errs := runCmd(t, "-o", out, "-participants", "3", "-fill", "CONTAIN", "-source", "1:640x480", "-source", "2:640x480", "-stopped", "3")
	if code != 0 {
		t.Fatal(errs)
	}
	img := decodePNG(t, out)
	if img.Bounds() != image.Rect(0, 0, 1280, 720) {
		t.Fatalf("size %v", img.Bounds())
	}
	// Tile 1 is {0 0 638 358}: the picture is 478x358 centred at x=80 (bars 0..79).
	if !same(img.At(40, 200), background) || !same(img.At(600, 200), background) {
		t.Errorf("CONTAIN bars are not background")
	}
	if !same(img.At(84, 200), frameColor) {
		t.Errorf("the source's left border is not visible inside the bars: %v", img.At(84, 200))
	}
	// Tile 3 (placeholder) is {320 360 638 358}.
	if !same(img.At(330, 700), placeholder) {
		t.Errorf("placeholder tile colour %v", img.At(330, 700))
	}
	white := 0
	for y := 360; y < 718; y++ {
		for x := 320; x < 958; x++ {
			if same(img.At(x, y), labelText) {
				white++
			}
		}
	}
	if white < 50 {
		t.Errorf("placeholder has no label (%d text pixels)", white)
	}

	// COVER of a 4:3 source in a 16:9 tile: the top/bottom border is cropped away, the sides remain.
	code, _, _ = runCmd(t, "-o", out, "-participants", "1", "-source", "1:640x480", "-layout", "pip")
	if code != 0 {
		t.Fatal("cover run failed")
	}
	img = decodePNG(t, out)
	if !same(img.At(3, 400), frameColor) || same(img.At(100, 715), frameColor) {
		t.Errorf("COVER crop: left border %v, bottom %v", img.At(3, 400), img.At(100, 715))
	}

	// PiP window outline.
	code, _, _ = runCmd(t, "-o", out, "-participants", "2", "-layout", "pip")
	if code != 0 {
		t.Fatal("pip run failed")
	}
	img = decodePNG(t, out)
	if !same(img.At(1279, 600), pipOutline) || !same(img.At(1100, 719), pipOutline) {
		t.Errorf("PiP window {960 540 320 180} has no outline")
	}
}

// Every layout-dump command in README.md runs and renders.
func TestREADMEExamples(t *testing.T) {
	t.Chdir("../..")
	f, err := os.Open("README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "bin/layout-dump ") {
			continue
		}
		n++
		args := shellWords(t, strings.TrimPrefix(line, "bin/layout-dump "))
		pngOut := ""
		for i := range args {
			if args[i] == "-o" && i+1 < len(args) {
				pngOut = filepath.Join(t.TempDir(), filepath.Base(args[i+1]))
				args[i+1] = pngOut
			}
			if args[i] == ">" { // a shell redirection of -json output
				args = args[:i]
				break
			}
		}
		code, out, errs := runCmd(t, args...)
		if code != 0 {
			t.Errorf("README example %q: exit %d: %s", line, code, errs)
			continue
		}
		if pngOut != "" {
			decodePNG(t, pngOut)
		} else if !json.Valid([]byte(out)) {
			t.Errorf("README example %q printed no JSON", line)
		}
	}
	if n < 4 {
		t.Errorf("found %d layout-dump examples in README.md, want several", n)
	}
}

// shellWords splits a command line the way sh would for the simple quoting the README uses.
func shellWords(t *testing.T, s string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		t.Fatalf("unbalanced quote in %q", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// -o writes JPEG for .jpg and .jpeg, PNG for .png and a name without an
// extension (/dev/stdout), and refuses any other before rendering (a .jpg
// used to get PNG bytes).
func TestPictureFormats(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name   string
		decode func(io.Reader) (image.Image, error)
	}{{"p.png", png.Decode}, {"p.JPG", jpeg.Decode}, {"p.jpeg", jpeg.Decode}, {"preview", png.Decode}} {
		out := filepath.Join(dir, tc.name)
		if code, _, errs := runCmd(t, "-o", out); code != 0 {
			t.Fatalf("-o %s: exit %d: %s", tc.name, code, errs)
		}
		f, err := os.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		img, err := tc.decode(f)
		f.Close()
		if err != nil || img.Bounds() != image.Rect(0, 0, 1280, 720) {
			t.Errorf("-o %s: %v, %v", tc.name, err, img)
		}
	}
	out := filepath.Join(dir, "p.gif")
	code, _, errs := runCmd(t, "-o", out)
	if code != 2 || !strings.Contains(errs, `-o "`+out+`": want a file name ending in .png, .jpg or .jpeg (or none, for PNG)`) {
		t.Errorf("-o p.gif: exit %d %q, want 2", code, errs)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("-o p.gif wrote a file: %v", err)
	}
}
