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
	"layout":              {},
	"media":               {},
	"media/mediatest":     {"media"},
	"contract":            {"layout"},
	"capacity":            {},
	"compositor":          {"layout", "media", "internal/glyph"},
	"internal/av":         {"media", "internal/h264"},
	"ingest":              {"media", "internal/av", "internal/h264", "internal/durable", "internal/pionlog", "internal/pionconf"},
	"output":              {"contract", "media", "internal/av", "internal/durable"},
	"whep":                {"media", "internal/av", "internal/durable", "internal/pionlog", "internal/pionconf"},
	"control":             {"contract", "layout", "ingest", "whep", "capacity", "control/sigv4", "control/wire", "control/store"},
	"console":             {"control", "ingest", "control/store", "worker", "output", "whep", "internal/hlsjs"},
	"worker":              {"contract", "layout", "media", "capacity", "compositor", "ingest", "output", "whep", "internal/av"},
	"cmd/tessera":         {"worker", "control", "console", "control/store", "ingest", "output", "whep", "internal/av", "internal/selfsigned", "internal/schedkeep"},
	"cmd/layout-dump":     {"layout", "compositor", "media"},
	"bench":               {"*"},
	"internal/archtest":   {},
	"internal/testsrv":    {"internal/selfsigned", "internal/hlsjs"},
	"internal/publisher":  {"media", "internal/av", "internal/h264", "internal/pionlog", "internal/glyph"},
	"internal/glyph":      {},
	"internal/h264":       {},
	"internal/durable":    {},
	"internal/selfsigned": {"internal/durable"},
	"internal/pionlog":    {},
	"internal/hlsjs":      {},
	"internal/pionconf":   {"internal/pionlog"},
	"internal/schedkeep":  {},
	"control/sigv4":       {},
	"control/wire":        {},
	"control/store":       {},
	"e2e":                 {"layout", "media", "internal/publisher", "internal/testsrv"},
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

// The package table of docs/ARCHITECTURE.md says what this test enforces:
// every package has a row, and its "may import" cell (the backquoted names
// before any parenthesis; "nothing", "—" or "anything") is its rule.
func TestArchitectureDocMatches(t *testing.T) {
	doc, err := os.ReadFile("../../docs/ARCHITECTURE.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string][]string{}
	for line := range strings.Lines(string(doc)) {
		cells := strings.Split(strings.TrimSpace(line), "|")
		if len(cells) != 5 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue // not a row of the package table
		}
		rule := strings.TrimSpace(cells[3])
		if k := strings.IndexByte(rule, '('); k >= 0 {
			rule = rule[:k]
		}
		deps := backquoted(rule)
		if rule == "anything" {
			deps = []string{"*"}
		}
		for _, pkg := range backquoted(cells[1]) {
			documented[pkg] = deps
		}
	}
	for pkg, rules := range allowed {
		if pkg == "." {
			continue
		}
		doc, ok := documented[pkg]
		if !ok {
			t.Errorf("package %s has no row in docs/ARCHITECTURE.md", pkg)
			continue
		}
		if !slices.Equal(slices.Sorted(slices.Values(doc)), slices.Sorted(slices.Values(rules))) {
			t.Errorf("docs/ARCHITECTURE.md says %s may import %v; the rule is %v", pkg, doc, rules)
		}
	}
	for pkg := range documented {
		if _, ok := allowed[pkg]; !ok {
			t.Errorf("docs/ARCHITECTURE.md documents %s, which has no import rule", pkg)
		}
	}
}

// backquoted returns the `quoted` words of s.
func backquoted(s string) []string {
	var out []string
	parts := strings.Split(s, "`")
	for i := 1; i < len(parts); i += 2 {
		out = append(out, parts[i])
	}
	return out
}
