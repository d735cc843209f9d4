package layout

import (
	"math"
	"testing"
)

var hd = Size{1280, 720}

func TestGridSingleFillsCanvas(t *testing.T) {
	for _, aspect := range []AspectRatio{AspectVideo, AspectAuto} {
		slots := Arrange(hd, Config{Grid: &GridConfig{VideoAspectRatio: aspect}}, people(1))
		if len(slots) != 1 || slots[0].Rect != (Rect{0, 0, 1280, 720}) || slots[0].Role != RoleGrid {
			t.Errorf("%s: one participant = %+v, want the whole canvas", aspect, slots)
		}
	}
}

func TestGridExact(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		n     int
		rects []Rect
	}{
		{"two side by side, centred vertically", Config{}, 2,
			[]Rect{{0, 180, 638, 360}, {640, 180, 638, 360}}},
		{"three: last row centred", Config{}, 3,
			[]Rect{{0, 0, 638, 358}, {640, 0, 638, 358}, {320, 360, 638, 358}}},
		{"four: 2×2", Config{}, 4,
			[]Rect{{0, 0, 638, 358}, {640, 0, 638, 358}, {0, 360, 638, 358}, {640, 360, 638, 358}}},
		{"gap 0 tiles touch", Config{Grid: &GridConfig{GridGap: intp(0)}}, 4,
			[]Rect{{0, 0, 640, 360}, {640, 0, 640, 360}, {0, 360, 640, 360}, {640, 360, 640, 360}}},
		{"gap 10", Config{Grid: &GridConfig{GridGap: intp(10)}}, 2,
			[]Rect{{0, 180, 634, 358}, {644, 180, 634, 358}}},
		{"odd gap rounds up to even", Config{Grid: &GridConfig{GridGap: intp(3)}}, 2,
			[]Rect{{0, 180, 638, 358}, {642, 180, 638, 358}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			slots := Arrange(hd, tt.cfg, people(tt.n))
			if len(slots) != len(tt.rects) {
				t.Fatalf("got %d slots, want %d", len(slots), len(tt.rects))
			}
			for i, s := range slots {
				if s.Rect != tt.rects[i] || s.Participant != people(tt.n)[i].ID {
					t.Errorf("slot %d = %s %+v, want %s %+v", i, s.Participant, s.Rect, people(tt.n)[i].ID, tt.rects[i])
				}
			}
		})
	}
}

// The column count is the one that makes tiles of the aspect largest.
func TestGridColumnCount(t *testing.T) {
	tests := []struct {
		canvas     Size
		aspect     AspectRatio
		n          int
		cols, rows int
	}{
		{hd, AspectVideo, 2, 2, 1},
		{hd, AspectVideo, 5, 3, 2},
		{hd, AspectVideo, 9, 3, 3},
		{hd, AspectVideo, 12, 4, 3},
		{hd, AspectVideo, 16, 4, 4},
		{hd, AspectSquare, 2, 2, 1},
		{hd, AspectSquare, 6, 3, 2},
		{hd, AspectPortrait, 3, 3, 1},
		{hd, AspectPortrait, 8, 4, 2},
		{Size{720, 1280}, AspectVideo, 2, 1, 2},
		{Size{720, 1280}, AspectVideo, 4, 1, 4},
		{Size{720, 1280}, AspectPortrait, 4, 2, 2},
		{Size{1080, 1080}, AspectSquare, 4, 2, 2},
		{Size{1080, 1080}, AspectSquare, 3, 2, 2},
	}
	for _, tt := range tests {
		slots := Arrange(tt.canvas, Config{Grid: &GridConfig{VideoAspectRatio: tt.aspect}}, people(tt.n))
		cols, rows := map[int]bool{}, map[int]bool{}
		for _, s := range slots {
			cols[s.Rect.X] = true
			rows[s.Rect.Y] = true
		}
		// Columns: distinct X of the first row.
		firstRow := 0
		for _, s := range slots {
			if s.Rect.Y == slots[0].Rect.Y {
				firstRow++
			}
		}
		if firstRow != tt.cols || len(rows) != tt.rows {
			t.Errorf("%v %s n=%d: %d columns × %d rows, want %d × %d", tt.canvas, tt.aspect, tt.n, firstRow, len(rows), tt.cols, tt.rows)
		}
		want := tt.aspect.ratio()
		for _, s := range slots {
			got := float64(s.Rect.W) / float64(s.Rect.H)
			if math.Abs(got-want)/want > 0.02 {
				t.Errorf("%v %s n=%d: tile %dx%d has aspect %.3f, want %.3f", tt.canvas, tt.aspect, tt.n, s.Rect.W, s.Rect.H, got, want)
			}
		}
	}
}

// Non-exhaustive search: the chosen column count is at least as good as any other.
func TestGridLargestTiles(t *testing.T) {
	for n := 1; n <= 16; n++ {
		for _, c := range []Size{hd, {1920, 1080}, {720, 1280}, {640, 480}, {1080, 1080}} {
			slots := Arrange(c, Config{}, people(n))
			got := slots[0].Rect.Area()
			for cols := 1; cols <= n; cols++ {
				rows := (n + cols - 1) / cols
				fw := float64(c.W-(cols-1)*2) / float64(cols)
				fh := float64(c.H-(rows-1)*2) / float64(rows)
				area := math.Min(fw, fh*16/9) * math.Min(fh, fw*9/16)
				if float64(got) < area*0.98 {
					t.Errorf("%v n=%d: tiles of %d px², but %d columns would give %.0f", c, n, got, cols, area)
				}
			}
		}
	}
}

func TestGridAuto(t *testing.T) {
	auto := Config{Grid: &GridConfig{VideoAspectRatio: AspectAuto, GridGap: intp(0)}}
	// The block fills the canvas: every row spans the full width, and the rows the height.
	for n := 1; n <= 16; n++ {
		for _, c := range []Size{hd, {720, 1280}, {1080, 1080}} {
			slots := Arrange(c, auto, people(n))
			cols := 0
			for _, s := range slots {
				if s.Rect.Y == slots[0].Rect.Y {
					cols++
				}
			}
			rows := (n + cols - 1) / cols
			if cols*slots[0].Rect.W < c.W-2*cols || rows*slots[0].Rect.H < c.H-2*rows {
				t.Errorf("%v n=%d: AUTO leaves dead space: %d×%d tiles of %dx%d", c, n, cols, rows, slots[0].Rect.W, slots[0].Rect.H)
			}
		}
	}
	// Two landscape participants side by side on a landscape canvas, stacked on a portrait one.
	if s := Arrange(hd, auto, people(2)); s[0].Rect != (Rect{0, 0, 640, 720}) || s[1].Rect != (Rect{640, 0, 640, 720}) {
		t.Errorf("landscape canvas: %+v", s)
	}
	if s := Arrange(Size{720, 1280}, auto, people(2)); s[0].Rect != (Rect{0, 0, 720, 640}) || s[1].Rect != (Rect{0, 640, 720, 640}) {
		t.Errorf("portrait canvas: %+v", s)
	}
	// The tile shape follows the participants' video: four phones in portrait go in one row.
	phones := people(4)
	for i := range phones {
		phones[i].Video = Size{720, 1280}
	}
	if s := Arrange(hd, auto, phones); s[3].Rect != (Rect{960, 0, 320, 720}) {
		t.Errorf("portrait sources: %+v, want one row of 320x720", s)
	}
	if s := Arrange(hd, auto, people(4)); s[3].Rect != (Rect{640, 360, 640, 360}) {
		t.Errorf("landscape sources: %+v, want 2×2", s)
	}
}

func TestGridFillDefaults(t *testing.T) {
	for _, tt := range []struct {
		cfg  Config
		want FillMode
	}{
		{Config{}, Cover},
		{Config{Grid: &GridConfig{VideoFillMode: Contain}}, Contain},
		{Config{Grid: &GridConfig{VideoFillMode: Fill}}, Fill},
	} {
		for _, s := range Arrange(hd, tt.cfg, people(3)) {
			if s.Fill != tt.want {
				t.Errorf("%+v: fill %s, want %s", tt.cfg.Grid, s.Fill, tt.want)
			}
		}
	}
}

func TestGridTooSmall(t *testing.T) {
	if s := Arrange(Size{1, 1}, Config{}, people(1)); s != nil {
		t.Errorf("1x1 canvas holds %+v", s)
	}
	if s := Arrange(Size{2, 2}, Config{}, people(2)); len(s) != 0 {
		t.Errorf("2x2 canvas with gap 2 holds two tiles: %+v", s)
	}
	if s := Arrange(Size{2, 2}, Config{}, people(1)); len(s) != 1 || s[0].Rect != (Rect{0, 0, 2, 2}) {
		t.Errorf("2x2 canvas, one participant: %+v", s)
	}
	if s := Arrange(Size{1281, 721}, Config{}, people(1)); s[0].Rect != (Rect{0, 0, 1280, 720}) {
		t.Errorf("odd canvas not rounded down: %+v", s)
	}
	if s := Arrange(hd, Config{}, nil); s != nil {
		t.Errorf("no participants: %+v", s)
	}
}
