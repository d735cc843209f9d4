package archtest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/tessera-media/tessera"

// allowed maps each package (relative to the module root) to the packages of
// ours it may import; "*" allows anything. A package missing from the table
// fails the test, so a new package must take a place in the architecture.
var allowed = map[string][]string{
	"layout":             {},
	"media":              {},
	"media/mediatest":    {"media"},
	"compositor":         {"layout", "media", "internal/glyph"},
	"internal/av":        {"media", "internal/h264"},
	"ingest":             {"media", "internal/av", "internal/h264", "internal/durable", "internal/pionlog"},
	"contract":           {"layout"},
	"output":             {"contract", "media", "internal/av", "internal/h264", "internal/durable"},
	"control":            {"contract", "layout", "media", "compositor", "ingest", "output", "internal/av", "internal/h264", "internal/durable", "control/sigv4", "control/wire", "control/store"},
	"worker":             {"contract", "layout", "media", "compositor", "ingest", "output", "internal/av", "internal/h264", "internal/durable"},
	"cmd/tessera":        {"worker", "control", "contract", "layout", "media", "compositor", "ingest", "output", "internal/av", "internal/h264", "internal/durable", "control/store"},
	"cmd/layout-dump":    {"layout", "compositor", "media"},
	"bench":              {"*"},
	"internal/archtest":  {},
	"internal/testsrv":   {},
	"internal/publisher": {"media", "internal/av", "internal/h264", "internal/pionlog", "internal/glyph"},
	"internal/glyph":     {},
	"internal/h264":      {},
	"internal/durable":   {},
	"internal/pionlog":   {},
	"control/sigv4":      {},
	"control/wire":       {},
	"control/store":      {},
	".":                  {},
	"e2e":                {"layout", "media", "internal/publisher", "internal/testsrv"},
}

func TestImportRules(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatal("module root not found:", err)
	}
	seen := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "bin" || name == "out" || name == "data") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		rules, ok := allowed[rel]
		if !ok {
			t.Errorf("package %s is not in the architecture's import table (docs/ARCHITECTURE.md)", rel)
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		seen++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p != module && !strings.HasPrefix(p, module+"/") {
				continue
			}
			dep := strings.TrimPrefix(strings.TrimPrefix(p, module), "/")
			if dep == rel && strings.HasSuffix(path, "_test.go") {
				continue // external test package of the same package
			}
			if dep == "media/mediatest" && (strings.HasSuffix(path, "_test.go") || rel == "bench") {
				continue // test media is for tests and benchmarks
			}
			if dep == "internal/testsrv" && strings.HasSuffix(path, "_test.go") {
				continue // test servers (nginx-rtmp, S3, ffprobe) are for tests only
			}
			if dep == "internal/publisher" && (strings.HasSuffix(path, "_test.go") || rel == "bench" || strings.HasPrefix(rel, "cmd/")) {
				continue // the synthetic WHIP publisher drives tests, benchmarks and the demo
			}
			if dep == "internal/av" && rel == "compositor" && strings.HasSuffix(path, "_test.go") {
				continue // the compositor's tests measure it against FFmpeg
			}
			if !slices.Contains(rules, "*") && !slices.Contains(rules, dep) {
				t.Errorf("%s imports %s: %s may import only %v", filepath.Base(path), p, rel, rules)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen < 10 {
		t.Fatalf("checked only %d Go files; is the walk broken?", seen)
	}
}
