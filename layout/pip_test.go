package layout

import "testing"

func pipCfg(mod func(*PipConfig)) Config {
	p := &PipConfig{PipParticipantAttribute: "pip"}
	if mod != nil {
		mod(p)
	}
	return Config{Pip: p}
}

func TestPipWindowDefaults(t *testing.T) {
	tests := []struct {
		name   string
		canvas Size
		cfg    Config
		video  Size
		want   Rect
	}{
		{"quarter width, 16:9, bottom right", hd, pipCfg(nil), Size{1280, 720}, Rect{960, 540, 320, 180}},
		{"unknown video is 16:9", hd, pipCfg(nil), Size{}, Rect{960, 540, 320, 180}},
		{"height from the video's 4:3", hd, pipCfg(nil), Size{640, 480}, Rect{960, 480, 320, 240}},
		{"portrait canvas: a third", Size{720, 1280}, pipCfg(nil), Size{1280, 720}, Rect{480, 1144, 240, 136}},
		{"offset from both nearest edges", hd, pipCfg(func(p *PipConfig) { p.PipOffset = intp(20) }), Size{1280, 720}, Rect{940, 520, 320, 180}},
		{"odd offset rounds up", hd, pipCfg(func(p *PipConfig) { p.PipOffset = intp(5) }), Size{1280, 720}, Rect{954, 534, 320, 180}},
		{"top left", hd, pipCfg(func(p *PipConfig) { p.PipPosition = TopLeft; p.PipOffset = intp(10) }), Size{1280, 720}, Rect{10, 10, 320, 180}},
		{"top right", hd, pipCfg(func(p *PipConfig) { p.PipPosition = TopRight; p.PipOffset = intp(10) }), Size{1280, 720}, Rect{950, 10, 320, 180}},
		{"bottom left", hd, pipCfg(func(p *PipConfig) { p.PipPosition = BottomLeft; p.PipOffset = intp(10) }), Size{1280, 720}, Rect{10, 530, 320, 180}},
		{"explicit size", hd, pipCfg(func(p *PipConfig) { p.PipWidth, p.PipHeight = intp(400), intp(400) }), Size{1280, 720}, Rect{880, 320, 400, 400}},
		{"width only: height from aspect", hd, pipCfg(func(p *PipConfig) { p.PipWidth = intp(480) }), Size{1280, 720}, Rect{800, 450, 480, 270}},
		{"height only: width from aspect", hd, pipCfg(func(p *PipConfig) { p.PipHeight = intp(240) }), Size{640, 480}, Rect{960, 480, 320, 240}},
		{"odd explicit size rounds to even", hd, pipCfg(func(p *PipConfig) { p.PipWidth, p.PipHeight = intp(301), intp(1) }), Size{1280, 720}, Rect{978, 718, 302, 2}},
		{"explicit size clamped to canvas", hd, pipCfg(func(p *PipConfig) { p.PipWidth, p.PipHeight = intp(5000), intp(5000); p.PipOffset = intp(10) }), Size{1280, 720}, Rect{0, 0, 1270, 710}},
		{"derived size clamped keeps aspect", hd, pipCfg(func(p *PipConfig) { p.PipWidth = intp(4000) }), Size{1280, 720}, Rect{0, 0, 1280, 720}},
		{"derived tall size clamped keeps aspect", hd, pipCfg(func(p *PipConfig) { p.PipHeight = intp(4000) }), Size{720, 1280}, Rect{874, 0, 406, 720}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := with(people(2), "p2", "pip", "true")
			ps[1].Video = tt.video
			slots := Arrange(tt.canvas, tt.cfg, ps)
			last := slots[len(slots)-1]
			if last.Participant != "p2" || last.Role != RolePip || last.Z != 1 || last.Rect != tt.want {
				t.Errorf("PiP slot = %+v, want p2 pip z1 %+v", last, tt.want)
			}
		})
	}
}

func TestPipMainArea(t *testing.T) {
	// The main participant fills the canvas below the window; fill default COVER everywhere.
	slots := Arrange(hd, Config{Pip: &PipConfig{}}, people(2))
	if len(slots) != 2 {
		t.Fatalf("slots = %+v", slots)
	}
	if s := slots[0]; s.Participant != "p1" || s.Rect != (Rect{0, 0, 1280, 720}) || s.Role != RoleGrid || s.Z != 0 || s.Fill != Cover {
		t.Errorf("main = %+v", s)
	}
	if s := slots[1]; s.Participant != "p2" || s.Role != RolePip || s.Fill != Cover {
		t.Errorf("pip = %+v", s)
	}
	// Several main participants fill the canvas as an AUTO grid with the PiP gridGap.
	slots = Arrange(hd, Config{Pip: &PipConfig{GridGap: intp(4), VideoFillMode: Contain}}, people(3))
	if slots[0].Rect != (Rect{0, 0, 638, 720}) || slots[1].Rect != (Rect{642, 0, 638, 720}) || slots[1].Participant != "p3" {
		t.Errorf("main grid = %+v", slots)
	}
	for _, s := range slots {
		if s.Fill != Contain {
			t.Errorf("%s fill %s, want CONTAIN", s.Participant, s.Fill)
		}
	}
}

func TestPipParticipantChoice(t *testing.T) {
	tests := []struct {
		name string
		ps   []Participant
		cfg  Config
		pip  string
		main []string
	}{
		{"attribute wins", with(people(3), "p3", "pip", "true"), pipCfg(nil), "p3", []string{"p1", "p2"}},
		{"first with the attribute in order", with(with(people(3), "p3", "pip", "true"), "p2", "pip", "true"), pipCfg(nil), "p2", []string{"p1", "p3"}},
		{"nobody carries it: the second in order", people(3), pipCfg(nil), "p2", []string{"p1", "p3"}},
		{"attribute not configured: the second in order", with(people(3), "p3", "pip", "true"), Config{Pip: &PipConfig{}}, "p2", []string{"p1", "p3"}},
		{"second by order attribute", with(with(people(3), "p3", "o", "1"), "p1", "o", "2"),
			pipCfg(func(p *PipConfig) { p.ParticipantOrderAttribute = "o" }), "p1", []string{"p3", "p2"}},
		{"the featured participant is never put in the window implicitly",
			with(people(3), "p2", "f", "true"), pipCfg(func(p *PipConfig) { p.FeaturedParticipantAttribute = "f" }), "p1", []string{"p2", "p3"}},
		{"featured first in order: the next one",
			with(people(3), "p1", "f", "true"), pipCfg(func(p *PipConfig) { p.FeaturedParticipantAttribute = "f" }), "p2", []string{"p1", "p3"}},
		{"one participant without the attribute: no window", people(1), pipCfg(nil), "", []string{"p1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			slots := Arrange(hd, tt.cfg, tt.ps)
			var pip string
			var main []string
			for _, s := range slots {
				if s.Role == RolePip {
					pip = s.Participant
				} else {
					main = append(main, s.Participant)
				}
			}
			if pip != tt.pip || len(main) != len(tt.main) {
				t.Fatalf("pip %q main %v, want pip %q main %v", pip, main, tt.pip, tt.main)
			}
			for i := range main {
				if main[i] != tt.main[i] {
					t.Errorf("main %v, want %v", main, tt.main)
				}
			}
		})
	}
}

func TestPipFeaturedInMain(t *testing.T) {
	ps := with(with(people(4), "p3", "f", "true"), "p4", "pip", "true")
	cfg := pipCfg(func(p *PipConfig) { p.FeaturedParticipantAttribute = "f" })
	m := byID(Arrange(hd, cfg, ps))
	if m["p3"].Role != RoleFeatured || m["p3"].Rect != (Rect{0, 0, 1280, 540}) || m["p3"].Fill != Cover {
		t.Errorf("featured in PiP main area = %+v", m["p3"])
	}
	if m["p4"].Role != RolePip || m["p1"].Rect.Y < 540 || m["p2"].Rect.Y < 540 {
		t.Errorf("PiP layout with featured: %+v", m)
	}
	// A participant carrying both attributes is the PiP; the next featured one takes the main slot.
	ps = with(with(people(3), "p1", "f", "true"), "p1", "pip", "true")
	ps = with(ps, "p3", "f", "true")
	m = byID(Arrange(hd, cfg, ps))
	if m["p1"].Role != RolePip || m["p3"].Role != RoleFeatured {
		t.Errorf("both attributes: %+v", m)
	}
}

func TestPipBehaviorAlone(t *testing.T) {
	alone := with(people(1), "p1", "pip", "true")
	static := Arrange(hd, pipCfg(func(p *PipConfig) { p.PipOffset = intp(8) }), alone)
	if len(static) != 1 || static[0].Rect != (Rect{952, 532, 320, 180}) || static[0].Role != RolePip {
		t.Errorf("STATIC alone = %+v, want the window where it was", static)
	}
	dynamic := Arrange(hd, pipCfg(func(p *PipConfig) { p.PipBehavior = Dynamic; p.PipOffset = intp(8) }), alone)
	if len(dynamic) != 1 || dynamic[0].Rect != (Rect{0, 0, 1280, 720}) || dynamic[0].Role != RolePip {
		t.Errorf("DYNAMIC alone = %+v, want the whole canvas", dynamic)
	}
	// Alone because the others' video stopped and is omitted.
	ps := with(people(2), "p2", "pip", "true")
	ps[0].VideoStopped = true
	dynamic = Arrange(hd, pipCfg(func(p *PipConfig) { p.PipBehavior = Dynamic; p.OmitStoppedVideo = true }), ps)
	if len(dynamic) != 1 || dynamic[0].Rect != (Rect{0, 0, 1280, 720}) {
		t.Errorf("DYNAMIC alone after omitting = %+v", dynamic)
	}
	// Not alone: DYNAMIC keeps the window.
	dynamic = Arrange(hd, pipCfg(func(p *PipConfig) { p.PipBehavior = Dynamic }), with(people(2), "p2", "pip", "true"))
	if dynamic[1].Rect != (Rect{960, 540, 320, 180}) {
		t.Errorf("DYNAMIC with company = %+v", dynamic[1])
	}
}

func TestPipStoppedVideo(t *testing.T) {
	ps := with(people(2), "p2", "pip", "true")
	ps[1].VideoStopped = true
	slots := Arrange(hd, pipCfg(nil), ps)
	if s := slots[1]; s.Participant != "p2" || s.Role != RolePlaceholder || s.Z != 1 {
		t.Errorf("stopped PiP = %+v, want a placeholder on top", s)
	}
}
