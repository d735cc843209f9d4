package layout_test

import (
	"fmt"

	"github.com/tessera-media/tessera/layout"
)

// Four participants on a 720p grid with 8-pixel gaps, slots in drawing
// order: ben carries the featured attribute and takes the top (CONTAIN, the
// featured slot's default), the others share the strip below, and dev,
// whose video is stopped, keeps its tile as a placeholder.
func ExampleArrange() {
	hd := layout.Size{W: 1280, H: 720}
	cfg := layout.Config{Grid: &layout.GridConfig{FeaturedParticipantAttribute: "featured", GridGap: new(8)}}
	ps := []layout.Participant{
		{ID: "ana", Arrival: 1, Video: hd},
		{ID: "ben", Arrival: 2, Video: hd, Attributes: map[string]string{"featured": "true"}},
		{ID: "cleo", Arrival: 3, Video: hd},
		{ID: "dev", Arrival: 4, VideoStopped: true},
	}
	for _, s := range layout.Arrange(hd, cfg, ps) {
		fmt.Printf("%-4s %-11s %-7s %+v\n", s.Participant, s.Role, s.Fill, s.Rect)
	}
	// Output:
	// ana  grid        COVER   {X:158 Y:542 W:316 H:178}
	// ben  featured    CONTAIN {X:0 Y:0 W:1280 H:534}
	// cleo grid        COVER   {X:482 Y:542 W:316 H:178}
	// dev  placeholder COVER   {X:806 Y:542 W:316 H:178}
}
