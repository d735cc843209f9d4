package compositor_test

import (
	"fmt"

	"github.com/tessera-media/tessera/compositor"
	"github.com/tessera-media/tessera/layout"
	"github.com/tessera-media/tessera/media"
)

// Two participants side by side on a small canvas: the layout comes from
// layout.Arrange, each source is one solid colour (red 16:9, blue 4:3,
// cropped to its tile by COVER), and each tile shows that colour; the
// canvas around the tiles is the background, black.
func Example() {
	canvas := layout.Size{W: 640, H: 360}
	ps := []layout.Participant{
		{ID: "red", Arrival: 1, Video: layout.Size{W: 1280, H: 720}},
		{ID: "blue", Arrival: 2, Video: layout.Size{W: 640, H: 480}},
	}
	c := compositor.New(canvas, compositor.Options{})
	defer c.Close()
	slots := layout.Arrange(canvas, layout.Config{}, ps)
	c.SetLayout(slots, ps)

	red := media.NewVideoFrame(1280, 720)
	red.Fill(media.RGBToYUV(255, 0, 0))
	blue := media.NewVideoFrame(640, 480)
	blue.Fill(media.RGBToYUV(0, 0, 255))
	frame := media.NewVideoFrame(canvas.W, canvas.H)
	if err := c.Compose(frame, []*media.VideoFrame{red, blue}); err != nil {
		fmt.Println(err)
		return
	}
	at := func(x, y int) media.YUV {
		return media.YUV{Y: frame.Row(0, y)[x], U: frame.Row(1, y/2)[x/2], V: frame.Row(2, y/2)[x/2]}
	}
	for _, s := range slots {
		fmt.Printf("%-4s %+v: %+v\n", s.Participant, s.Rect, at(s.Rect.X+s.Rect.W/2, s.Rect.Y+s.Rect.H/2))
	}
	fmt.Printf("background: %+v\n", at(0, 0))
	// Output:
	// red  {X:0 Y:90 W:318 H:180}: {Y:63 U:102 V:240}
	// blue {X:320 Y:90 W:318 H:180}: {Y:32 U:240 V:118}
	// background: {Y:16 U:128 V:128}
}
