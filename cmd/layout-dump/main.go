// Command layout-dump previews a composition layout: it arranges synthetic
// participants on a canvas exactly as a composition would and writes the
// result as a PNG or JPEG picture and/or as JSON slots.
//
// Usage:
//
//	layout-dump [flags] [start-composition-request.json]
//
// The optional argument is a StartComposition request in the shape that
// `aws ivs-realtime start-composition --cli-input-json` takes; only its
// layout is used. Layout flags override it. Run `layout-dump -h` for the
// flags. Exit status: 0 on success, 2 for bad input (with a one-line reason
// on stderr), 1 when the output cannot be written.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/tessera-media/tessera/layout"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole command; it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	opts, err := parseArgs(args, stderr)
	if errors.Is(err, errHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "layout-dump: %v\n", err)
		return 2
	}
	slots := layout.Arrange(opts.canvas, opts.config, opts.participants)
	if opts.picture != "" {
		if err := writePicture(opts.picture, render(opts.canvas, opts.participants, slots)); err != nil {
			fmt.Fprintf(stderr, "layout-dump: %v\n", err)
			return 1
		}
		fmt.Fprintf(stderr, "layout-dump: wrote %s (%dx%d, %d slots)\n", opts.picture, opts.canvas.W, opts.canvas.H, len(slots))
	}
	if opts.json || opts.picture == "" {
		if err := writeJSON(stdout, opts.canvas, opts.participants, slots); err != nil {
			fmt.Fprintf(stderr, "layout-dump: %v\n", err)
			return 1
		}
	}
	return 0
}

// dump is the JSON document -json prints.
type dump struct {
	Canvas struct {
		Width  int `json:"width"`
		Height int `json:"height"`
	} `json:"canvas"`
	Slots []dumpSlot `json:"slots"`
}

type dumpSlot struct {
	Participant string `json:"participant"`
	Role        string `json:"role"`
	X           int    `json:"x"`
	Y           int    `json:"y"`
	Width       int    `json:"width"`
	Height      int    `json:"height"`
	Fill        string `json:"fill"`
	Z           int    `json:"z"`
}

// writeJSON prints the slots in drawing order.
func writeJSON(w io.Writer, canvas layout.Size, ps []layout.Participant, slots []layout.Slot) error {
	var d dump
	d.Canvas.Width, d.Canvas.Height = canvas.W, canvas.H
	d.Slots = make([]dumpSlot, len(slots))
	for i, s := range slots {
		d.Slots[i] = dumpSlot{
			Participant: s.Participant, Role: string(s.Role),
			X: s.Rect.X, Y: s.Rect.Y, Width: s.Rect.W, Height: s.Rect.H,
			Fill: string(s.Fill), Z: s.Z,
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}
