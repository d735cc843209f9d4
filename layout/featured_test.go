package layout

import (
	"slices"
	"testing"
)

var featuredGrid = Config{Grid: &GridConfig{FeaturedParticipantAttribute: "featured"}}

func TestFeaturedSlot(t *testing.T) {
	ps := with(people(5), "p3", "featured", "true")
	slots := Arrange(hd, featuredGrid, ps)
	m := byID(slots)
	f := m["p3"]
	// Strip: (720-2)/4 = 179.5 → 178 high; featured: the 540 rows above the gap.
	if f.Role != RoleFeatured || f.Rect != (Rect{0, 0, 1280, 540}) || f.Fill != Contain {
		t.Fatalf("featured = %+v, want featured {0 0 1280 540} CONTAIN", f)
	}
	var strip []Rect
	for _, id := range []string{"p1", "p2", "p4", "p5"} { // the others, in order, left to right
		s := m[id]
		if s.Role != RoleGrid || s.Fill != Cover {
			t.Errorf("%s = %+v, want a COVER grid tile", id, s)
		}
		if s.Rect.Y < 542 || s.Rect.Bottom() > 720 {
			t.Errorf("%s = %+v, not in the strip rows 542..720", id, s.Rect)
		}
		strip = append(strip, s.Rect)
	}
	for i := 1; i < len(strip); i++ {
		if strip[i].Y != strip[0].Y || strip[i].X <= strip[i-1].X || strip[i].Size() != strip[0].Size() {
			t.Errorf("strip is not one row of equal tiles in order: %+v", strip)
		}
	}
	if mid := (strip[0].X + strip[3].Right()) / 2; mid < 638 || mid > 642 {
		t.Errorf("strip is not centred: spans %d..%d", strip[0].X, strip[3].Right())
	}
}

func TestFeaturedAloneFillsCanvas(t *testing.T) {
	slots := Arrange(hd, featuredGrid, with(people(1), "p1", "featured", "true"))
	if len(slots) != 1 || slots[0].Rect != (Rect{0, 0, 1280, 720}) || slots[0].Role != RoleFeatured {
		t.Errorf("alone: %+v", slots)
	}
	// Alone because the others are omitted.
	ps := with(people(3), "p2", "featured", "true")
	ps[0].VideoStopped, ps[2].VideoStopped = true, true
	slots = Arrange(hd, Config{Grid: &GridConfig{FeaturedParticipantAttribute: "featured", OmitStoppedVideo: true}}, ps)
	if len(slots) != 1 || slots[0].Participant != "p2" || slots[0].Rect != (Rect{0, 0, 1280, 720}) {
		t.Errorf("alone after omitting: %+v", slots)
	}
}

func TestOnlyFirstFeaturedInOrder(t *testing.T) {
	ps := with(with(people(4), "p2", "featured", "true"), "p4", "featured", "true")
	ps = with(with(ps, "p4", "rank", "1"), "p2", "rank", "2")
	cfg := Config{Grid: &GridConfig{FeaturedParticipantAttribute: "featured"}}
	if m := byID(Arrange(hd, cfg, ps)); m["p2"].Role != RoleFeatured || m["p4"].Role != RoleGrid {
		t.Errorf("by arrival: p2 %s, p4 %s; want p2 featured", m["p2"].Role, m["p4"].Role)
	}
	cfg.Grid.ParticipantOrderAttribute = "rank"
	if m := byID(Arrange(hd, cfg, ps)); m["p4"].Role != RoleFeatured || m["p2"].Role != RoleGrid {
		t.Errorf("by rank: p2 %s, p4 %s; want p4 featured", m["p2"].Role, m["p4"].Role)
	}
}

func TestFeaturedNeedsTheStringTrue(t *testing.T) {
	for _, v := range []string{"TRUE", "True", "1", "yes", ""} {
		slots := Arrange(hd, featuredGrid, with(people(3), "p1", "featured", v))
		for _, s := range slots {
			if s.Role == RoleFeatured {
				t.Errorf("value %q featured %s", v, s.Participant)
			}
		}
	}
	// No attribute name configured: nobody is featured, whatever the attributes.
	for _, s := range Arrange(hd, Config{}, with(people(3), "p1", "", "true")) {
		if s.Role == RoleFeatured {
			t.Errorf("featured without featuredParticipantAttribute: %+v", s)
		}
	}
}

func TestFeaturedStripRows(t *testing.T) {
	// Eleven others do not fit one row at the strip's height: two rows of larger tiles.
	ps := with(people(12), "p1", "featured", "true")
	slots := Arrange(hd, featuredGrid, ps)
	rows := map[int]int{}
	var tile Rect
	for _, s := range slots {
		if s.Role == RoleGrid {
			rows[s.Rect.Y]++
			tile = s.Rect
		}
	}
	if len(rows) != 2 {
		t.Errorf("strip rows = %v, want 2", rows)
	}
	oneRow := (1280 - 10*2) / 11
	if tile.W <= oneRow {
		t.Errorf("two-row tiles %dx%d are not larger than one row's %d wide", tile.W, tile.H, oneRow)
	}
}

func TestFeaturedPortraitCanvas(t *testing.T) {
	ps := with(people(3), "p2", "featured", "true")
	m := byID(Arrange(Size{720, 1280}, featuredGrid, ps))
	if m["p2"].Rect != (Rect{0, 0, 720, 960}) {
		t.Errorf("featured on portrait = %+v, want {0 0 720 960}", m["p2"].Rect)
	}
	for _, id := range []string{"p1", "p3"} {
		if r := m[id].Rect; r.Y < 962 || r.Bottom() > 1280 || r.Area() == 0 {
			t.Errorf("%s = %+v, not in the strip", id, r)
		}
	}
}

func TestFeaturedExplicitFill(t *testing.T) {
	cfg := Config{Grid: &GridConfig{FeaturedParticipantAttribute: "featured", VideoFillMode: Fill}}
	for _, s := range Arrange(hd, cfg, with(people(3), "p1", "featured", "true")) {
		if s.Fill != Fill {
			t.Errorf("%s fill %s, want FILL for every slot", s.Participant, s.Fill)
		}
	}
}

func TestStoppedVideo(t *testing.T) {
	ps := people(4)
	ps[1].VideoStopped = true
	slots := Arrange(hd, Config{}, ps)
	if len(slots) != 4 || slots[1].Participant != "p2" || slots[1].Role != RolePlaceholder {
		t.Fatalf("stopped video does not keep its tile as a placeholder: %+v", slots)
	}
	if slots[1].Rect != Arrange(hd, Config{}, people(4))[1].Rect {
		t.Errorf("placeholder moved: %+v", slots[1])
	}
	omit := Arrange(hd, Config{Grid: &GridConfig{OmitStoppedVideo: true}}, ps)
	if got := ids(omit); !slices.Equal(got, []string{"p1", "p3", "p4"}) {
		t.Errorf("omitStoppedVideo: %v, want p1 p3 p4", got)
	}
	if omit[2].Rect != Arrange(hd, Config{}, people(3))[2].Rect {
		t.Errorf("omitted participant's tile not given up: %+v", omit)
	}
	// A featured participant without video keeps the featured slot as a placeholder.
	fs := with(people(3), "p1", "featured", "true")
	fs[0].VideoStopped = true
	if s := byID(Arrange(hd, featuredGrid, fs))["p1"]; s.Role != RolePlaceholder || s.Rect != (Rect{0, 0, 1280, 540}) {
		t.Errorf("stopped featured = %+v", s)
	}
	// ... and with omitStoppedVideo the next one with the attribute is featured.
	fs = with(fs, "p3", "featured", "true")
	cfg := Config{Grid: &GridConfig{FeaturedParticipantAttribute: "featured", OmitStoppedVideo: true}}
	if s := byID(Arrange(hd, cfg, fs))["p3"]; s.Role != RoleFeatured {
		t.Errorf("next featured after omitting = %+v", s)
	}
}

func TestLabel(t *testing.T) {
	if l := (Participant{ID: "abc", UserID: "alice"}).Label(); l != "alice" {
		t.Errorf("Label = %q", l)
	}
	if l := (Participant{ID: "abc"}).Label(); l != "abc" {
		t.Errorf("Label = %q", l)
	}
}
