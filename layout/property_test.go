package layout

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// randomCase builds a layout, a canvas (even, 2..1920) and 0..16 participants
// from r: every knob of the API, attributes that are sometimes "true",
// sometimes an integer, sometimes junk, unknown and odd video sizes, stopped video.
func randomCase(r *rand.Rand) (Size, Config, []Participant) {
	canvas := Size{2 + 2*r.IntN(960), 2 + 2*r.IntN(960)}
	pick := func(vals ...string) string { return vals[r.IntN(len(vals))] }
	gap := func() *int {
		if r.IntN(3) == 0 {
			return nil
		}
		return intp(r.IntN(24))
	}
	var cfg Config
	if r.IntN(2) == 0 {
		cfg.Grid = &GridConfig{
			FeaturedParticipantAttribute: pick("", "featured"),
			OmitStoppedVideo:             r.IntN(2) == 0,
			VideoAspectRatio:             AspectRatio(pick("", "AUTO", "VIDEO", "SQUARE", "PORTRAIT")),
			VideoFillMode:                FillMode(pick("", "FILL", "COVER", "CONTAIN")),
			GridGap:                      gap(),
			ParticipantOrderAttribute:    pick("", "order"),
		}
	} else {
		p := &PipConfig{
			FeaturedParticipantAttribute: pick("", "featured"),
			OmitStoppedVideo:             r.IntN(2) == 0,
			VideoFillMode:                FillMode(pick("", "FILL", "COVER", "CONTAIN")),
			GridGap:                      gap(),
			PipParticipantAttribute:      pick("", "pip"),
			PipBehavior:                  PipBehavior(pick("", "STATIC", "DYNAMIC")),
			PipOffset:                    gap(),
			PipPosition:                  PipPosition(pick("", "TOP_LEFT", "TOP_RIGHT", "BOTTOM_LEFT", "BOTTOM_RIGHT")),
			ParticipantOrderAttribute:    pick("", "order"),
		}
		if r.IntN(3) == 0 {
			p.PipWidth = intp(1 + r.IntN(2000))
		}
		if r.IntN(3) == 0 {
			p.PipHeight = intp(1 + r.IntN(2000))
		}
		cfg.Pip = p
	}
	n := r.IntN(17)
	ps := make([]Participant, n)
	for i := range ps {
		ps[i] = Participant{
			ID:           fmt.Sprintf("p%d", i+1),
			Arrival:      uint64(r.IntN(8)), // ties on purpose
			VideoStopped: r.IntN(5) == 0,
			Attributes:   map[string]string{},
		}
		if r.IntN(4) != 0 {
			ps[i].Video = Size{1 + r.IntN(1920), 1 + r.IntN(1920)}
		}
		for _, k := range []string{"featured", "pip"} {
			if r.IntN(4) == 0 {
				ps[i].Attributes[k] = pick("true", "false", "TRUE")
			}
		}
		if r.IntN(2) == 0 {
			ps[i].Attributes["order"] = pick("-3", "0", "1", "2", "17", "x", "", "1.5", "99999999999999999999")
		}
	}
	return canvas, cfg, ps
}

// checkArrange returns the first broken invariant of Arrange's result, or "".
func checkArrange(canvas Size, cfg Config, ps []Participant, slots []Slot) string {
	s := cfg.resolve()
	area := Rect{W: evenDown(canvas.W), H: evenDown(canvas.H)}
	seen := map[string]bool{}
	var grid, main []Slot
	var featured, pip *Slot
	for k := range slots {
		sl := &slots[k]
		p := ps[sl.Index]
		switch {
		case sl.Participant != p.ID:
			return "slot names the wrong participant"
		case seen[sl.Participant]:
			return "participant placed twice"
		case !sl.Rect.In(area) || sl.Rect.Empty():
			return fmt.Sprintf("%s %+v outside the canvas %+v", sl.Participant, sl.Rect, area)
		case sl.Rect.X%2 != 0 || sl.Rect.Y%2 != 0 || sl.Rect.W%2 != 0 || sl.Rect.H%2 != 0:
			return fmt.Sprintf("%s %+v not even-aligned", sl.Participant, sl.Rect)
		case s.omitStopped && p.VideoStopped:
			return "stopped video not omitted"
		case p.VideoStopped != (sl.Role == RolePlaceholder):
			return "placeholder role does not match stopped video"
		case k > 0 && (slots[k-1].Z > sl.Z || slots[k-1].Z == sl.Z && slots[k-1].Order >= sl.Order):
			return "slots not in drawing order"
		}
		seen[sl.Participant] = true
		switch {
		case sl.Z == 1:
			if pip != nil || !s.pip {
				return "unexpected window on top"
			}
			pip = sl
		case featured == nil && p.flag(s.featuredAttr):
			// The first participant in order with the attribute, outside the window.
			if sl.Role != RoleFeatured && sl.Role != RolePlaceholder {
				return fmt.Sprintf("%s should be featured, is %s", sl.Participant, sl.Role)
			}
			featured = sl
			main = append(main, *sl)
		case sl.Role == RoleFeatured:
			return "two featured slots"
		default:
			grid = append(grid, *sl)
			main = append(main, *sl)
		}
	}
	if pip != nil && (slots[len(slots)-1] != *pip) {
		return "PiP window not drawn last"
	}
	if pip != nil && pip.Fill != s.gridFill {
		return "PiP window fill mode"
	}
	for _, g := range grid {
		if g.Rect.Size() != grid[0].Rect.Size() {
			return fmt.Sprintf("grid tiles differ: %+v vs %+v", g.Rect, grid[0].Rect)
		}
		if g.Fill != s.gridFill {
			return "grid fill mode"
		}
		if featured != nil && featured.Rect.Area() <= g.Rect.Area() {
			return "featured slot not larger than grid tiles"
		}
	}
	if featured != nil && featured.Fill != s.featuredFill {
		return "featured fill mode"
	}
	for i := range main {
		for j := i + 1; j < len(main); j++ {
			if main[i].Rect.Overlaps(main[j].Rect) {
				return fmt.Sprintf("%+v overlaps %+v", main[i], main[j])
			}
			if d := main[i].Rect.Distance(main[j].Rect); d < s.gap {
				return fmt.Sprintf("%s and %s are %d apart, gap %d", main[i].Participant, main[j].Participant, d, s.gap)
			}
		}
	}
	// Every visible participant is placed unless the tiles would be tiny.
	visible := 0
	for _, p := range ps {
		if !(s.omitStopped && p.VideoStopped) {
			visible++
		}
	}
	if len(slots) != visible && area.W >= 64*(visible+s.gap) && area.H >= 64*(visible+s.gap) {
		return fmt.Sprintf("%d of %d visible participants placed on %v", len(slots), visible, canvas)
	}
	return ""
}

func TestArrangeProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		canvas, cfg, ps := randomCase(r)
		slots := Arrange(canvas, cfg, ps)
		if msg := checkArrange(canvas, cfg, ps, slots); msg != "" {
			t.Fatalf("case %d: canvas %v grid %+v pip %+v participants %+v\nslots %+v\n%s", i, canvas, cfg.Grid, cfg.Pip, ps, slots, msg)
		}
		// Deterministic, and independent of the order participants are passed in.
		again := Arrange(canvas, cfg, ps)
		if !slices.Equal(slots, again) {
			t.Fatalf("case %d: Arrange is not deterministic", i)
		}
		shuffled := slices.Clone(ps)
		r.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
		other := Arrange(canvas, cfg, shuffled)
		if len(other) != len(slots) {
			t.Fatalf("case %d: shuffling the input changed the slot count", i)
		}
		for k := range slots {
			a, b := slots[k], other[k]
			a.Index, b.Index = 0, 0
			if a != b {
				t.Fatalf("case %d: shuffling the input changed slot %d: %+v vs %+v", i, k, slots[k], other[k])
			}
		}
	}
}

// A participant joining last never moves anybody ahead of it in order.
func TestOrderStableUnderJoins(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		_, cfg, ps := randomCase(r)
		attr := cfg.resolve().orderAttr
		before := Order(ps, attr)
		late := Participant{ID: "late", Arrival: 1 << 40}
		after := Order(append(slices.Clone(ps), late), attr)
		var got []int
		for _, i := range after {
			if i < len(ps) {
				got = append(got, i)
			}
		}
		if !slices.Equal(got, before) {
			t.Fatalf("a late arrival reordered the others: %v → %v", before, got)
		}
		if after[len(after)-1] != len(ps) {
			t.Fatalf("a late arrival without order value is not last: %v", after)
		}
	}
}

func FuzzArrange(f *testing.F) {
	for _, seed := range []uint64{0, 1, 42, 1 << 33} {
		f.Add(seed, seed^0x9e3779b97f4a7c15)
	}
	f.Fuzz(func(t *testing.T, a, b uint64) {
		canvas, cfg, ps := randomCase(rand.New(rand.NewPCG(a, b)))
		if msg := checkArrange(canvas, cfg, ps, Arrange(canvas, cfg, ps)); msg != "" {
			t.Fatalf("canvas %v grid %+v pip %+v participants %+v: %s", canvas, cfg.Grid, cfg.Pip, ps, msg)
		}
	})
}
