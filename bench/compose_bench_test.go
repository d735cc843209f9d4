package bench

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/tessera-media/tessera/compositor"
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

// TestMain prints the comparison tables after a benchmark run.
func TestMain(m *testing.M) {
	code := m.Run()
	if len(results) > 0 {
		printTable(os.Stdout)
	}
	if len(pipelineResults) > 0 {
		printPipelineTable(os.Stdout)
	}
	os.Exit(code)
}

// ours are our implementations whose time the table relates to libyuv's.
var ours = []string{"tessera", "tessera-avx2", "tessera-avx512", "tessera-parallel"}

// printTable writes the CPU, then ms/frame per scenario and implementation,
// each of ours as a multiple of libyuv's time (the targets: the fastest
// kernel set ≤ 1, AVX2 ≤ 1.3), and how many times faster than FFmpeg the
// fastest single-core kernel set is.
func printTable(f *os.File) {
	model, flags := cpuInfo()
	fmt.Fprintf(f, "CPU: %s\nflags: %s\nkernel sets: %s\n", model, strings.Join(flags, " "), strings.Join(compositor.KernelSets(), ", "))
	best := "tessera-" + compositor.KernelSets()[0]
	if best == "tessera-portable" {
		best = "tessera"
	}
	w := tabwriter.NewWriter(f, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(w, "ms/frame")
	for _, im := range impls {
		fmt.Fprintf(w, "\t%s", im.name)
	}
	for _, o := range ours {
		fmt.Fprintf(w, "\t%s÷libyuv", strings.TrimPrefix(o, "tessera-"))
	}
	fmt.Fprintln(w, "\tffmpeg÷best\t")
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
		ratio := func(a, b string) {
			if x, ok := r[a]; ok {
				if y, ok := r[b]; ok {
					fmt.Fprintf(w, "\t%.2f×", x/y)
					return
				}
			}
			fmt.Fprint(w, "\t-")
		}
		for _, o := range ours {
			ratio(o, "libyuv")
		}
		ratio("ffmpeg", best)
		fmt.Fprintln(w, "\t")
	}
	w.Flush()
}
