package bench

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/tessera-media/tessera/layout"
	"github.com/tessera-media/tessera/media"
)

// results holds the last ms/frame of every BenchmarkCompose/<scenario>/<impl>.
var results = map[string]map[string]float64{}

func BenchmarkCompose(b *testing.B) {
	for _, s := range scenarios {
		b.Run(s.name, func(b *testing.B) {
			ps := s.participants()
			slots := layout.Arrange(s.canvas, s.cfg, ps)
			sets := sourceSets(s.n)
			if results[s.name] == nil {
				results[s.name] = map[string]float64{}
			}
			for _, im := range impls {
				b.Run(im.name, func(b *testing.B) {
					p, err := im.open(s, slots, ps)
					if unavailable(err) {
						b.Skip(err)
					}
					if err != nil {
						b.Fatal(err)
					}
					defer p.close()
					dst := media.NewVideoFrame(s.canvas.W, s.canvas.H)
					i := 0
					for b.Loop() {
						if err := p.compose(dst, sets[i%len(sets)]); err != nil {
							b.Fatal(err)
						}
						i++
					}
					ms := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / 1e6
					b.ReportMetric(ms, "ms/frame")
					results[s.name][im.name] = ms
					if im.ours {
						for _, peer := range []string{"ffmpeg", "libyuv"} {
							if v, ok := results[s.name][peer]; ok {
								b.ReportMetric(v/ms, "x-"+peer)
							}
						}
					}
				})
			}
		})
	}
}

// TestMain prints the comparison table after a benchmark run.
func TestMain(m *testing.M) {
	code := m.Run()
	if len(results) > 0 {
		printTable(os.Stdout)
	}
	os.Exit(code)
}

// printTable writes ms/frame per scenario and implementation, and how many
// times faster than FFmpeg and libyuv our fastest single-core and parallel
// variants are.
func printTable(f *os.File) {
	w := tabwriter.NewWriter(f, 0, 0, 2, ' ', tabwriter.AlignRight)
	var head []string
	for _, im := range impls {
		head = append(head, im.name)
	}
	fmt.Fprintf(w, "ms/frame\t%s\tsimd÷ffmpeg\tsimd÷libyuv\tparallel÷ffmpeg\tparallel÷libyuv\t\n", strings.Join(head, "\t"))
	for _, s := range scenarios {
		r, ok := results[s.name]
		if !ok {
			continue
		}
		fmt.Fprintf(w, "%s", s.name)
		for _, im := range impls {
			if v, ok := r[im.name]; ok {
				fmt.Fprintf(w, "\t%.3f", v)
			} else {
				fmt.Fprint(w, "\t-")
			}
		}
		for _, ours := range []string{"tessera-simd", "tessera-parallel"} {
			for _, peer := range []string{"ffmpeg", "libyuv"} {
				o, ok1 := r[ours]
				p, ok2 := r[peer]
				if ok1 && ok2 {
					fmt.Fprintf(w, "\t%.1f× faster", p/o)
				} else {
					fmt.Fprint(w, "\t-")
				}
			}
		}
		fmt.Fprintln(w, "\t")
	}
	w.Flush()
}
