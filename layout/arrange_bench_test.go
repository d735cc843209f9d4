package layout

import (
	"fmt"
	"testing"
)

// BenchmarkArrange measures one re-layout, as the composition does it on every
// roster or attribute change.
func BenchmarkArrange(b *testing.B) {
	layouts := []struct {
		name string
		cfg  Config
	}{
		{"grid", Config{}},
		{"featured", Config{Grid: &GridConfig{FeaturedParticipantAttribute: "featured", ParticipantOrderAttribute: "order"}}},
		{"auto", Config{Grid: &GridConfig{VideoAspectRatio: AspectAuto}}},
		{"pip", Config{Pip: &PipConfig{PipParticipantAttribute: "pip", FeaturedParticipantAttribute: "featured"}}},
	}
	for _, l := range layouts {
		for _, n := range []int{1, 4, 12} {
			ps := people(n)
			for i := range ps {
				ps[i].Attributes = map[string]string{"order": fmt.Sprint(n - i)}
			}
			ps = with(with(ps, "p1", "featured", "true"), ps[n-1].ID, "pip", "true")
			b.Run(fmt.Sprintf("%s/%d", l.name, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					Arrange(Size{1920, 1080}, l.cfg, ps)
				}
			})
		}
	}
}
