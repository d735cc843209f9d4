package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/tessera-media/tessera/layout"
)

// Canvas limits of an IVS encoder configuration.
const (
	maxSide   = 1920
	maxPixels = 2073600
	maxPeople = 100
)

var errHelp = errors.New("help")

// options is the parsed command line.
type options struct {
	canvas       layout.Size
	config       layout.Config
	participants []layout.Participant
	picture      string // -o: a PNG or JPEG file, by its extension
	json         bool
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func parseArgs(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("layout-dump", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported in one line by run; -h prints usage below
	usage := func() {
		fmt.Fprint(stderr, `Usage: layout-dump [flags] [start-composition-request.json]

Previews a Tessera / IVS composition layout. The optional file is a
StartComposition request (as 'aws ivs-realtime start-composition
--cli-input-json' takes it); only its "layout" is used, and layout flags
override it. Without -o, the slots are printed as JSON.

Flags:
`)
		fs.SetOutput(stderr)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	canvas := fs.String("canvas", "1280x720", "canvas `WxH`: even, 2-1920 each, at most 2073600 pixels")
	n := fs.Int("participants", 4, "number of participants p1…pN, arriving in that order")
	var attrs, sources, stopped listFlag
	fs.Var(&attrs, "attr", "participant attribute `I:key=value` (repeatable), e.g. 1:featured=true")
	fs.Var(&sources, "source", "participant video size `I:WxH` (repeatable; default 1280x720)")
	fs.Var(&stopped, "stopped", "participant `I` has stopped video (repeatable)")
	fs.StringVar(&o.picture, "o", "", "write a preview picture to `FILE`: JPEG for a name ending .jpg or .jpeg, else PNG (.png, or no extension, as /dev/stdout)")
	fs.BoolVar(&o.json, "json", false, "print the slots as JSON (the default without -o)")

	kind := fs.String("layout", "", "layout `grid|pip` (default: the file's, else grid)")
	gap := fs.Int("grid-gap", 0, "gridGap: pixels between tiles (default 2 for grid, 0 for pip)")
	aspect := fs.String("aspect", "", "grid videoAspectRatio `AUTO|VIDEO|SQUARE|PORTRAIT` (default VIDEO)")
	fill := fs.String("fill", "", "videoFillMode `FILL|COVER|CONTAIN` (default COVER; CONTAIN for the grid's featured slot)")
	featured := fs.String("featured-attr", "", "featuredParticipantAttribute `name`")
	order := fs.String("order-attr", "", "participantOrderAttribute `name`")
	omit := fs.Bool("omit-stopped", false, "omitStoppedVideo: leave out participants whose video is stopped")
	pipAttr := fs.String("pip-attr", "", "pip: pipParticipantAttribute `name`")
	pipPos := fs.String("pip-position", "", "pip: pipPosition `TOP_LEFT|TOP_RIGHT|BOTTOM_LEFT|BOTTOM_RIGHT` (default BOTTOM_RIGHT)")
	pipBeh := fs.String("pip-behavior", "", "pip: pipBehavior `STATIC|DYNAMIC` (default STATIC)")
	pipOff := fs.Int("pip-offset", 0, "pip: pipOffset, pixels from the nearest edges")
	pipW := fs.Int("pip-width", 0, "pip: pipWidth in pixels (default derived from the canvas)")
	pipH := fs.Int("pip-height", 0, "pip: pipHeight in pixels (default derived from the video's aspect)")

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage()
			return o, errHelp
		}
		return o, fmt.Errorf("%v (layout-dump -h lists the flags)", err)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	if o.picture != "" && pictureFormat(o.picture) == "" {
		return o, fmt.Errorf("-o %q: want a file name ending in .png, .jpg or .jpeg (or none, for PNG)", o.picture)
	}
	var err error
	if o.canvas, err = parseCanvas(*canvas); err != nil {
		return o, err
	}
	switch fs.NArg() {
	case 0:
	case 1:
		if o.config, err = readRequest(fs.Arg(0)); err != nil {
			return o, err
		}
	default:
		return o, fmt.Errorf("one request file at most, got %q", fs.Args())
	}

	// The layout kind: the flag, else the file's, else grid.
	switch *kind {
	case "":
		if o.config.Pip != nil {
			*kind = "pip"
		} else {
			*kind = "grid"
		}
	case "grid":
		if o.config.Pip != nil {
			return o, errors.New("-layout grid: the request file has a pip layout")
		}
	case "pip":
		if o.config.Grid != nil {
			return o, errors.New("-layout pip: the request file has a grid layout")
		}
	default:
		return o, fmt.Errorf("-layout %q: want grid or pip", *kind)
	}
	// The fields both layouts have.
	var (
		featuredDst, orderDst *string
		fillDst               *layout.FillMode
		gapDst                **int
		omitDst               *bool
	)
	if *kind == "grid" {
		for _, name := range []string{"pip-attr", "pip-position", "pip-behavior", "pip-offset", "pip-width", "pip-height"} {
			if set[name] {
				return o, fmt.Errorf("-%s applies to the pip layout only (add -layout pip)", name)
			}
		}
		if o.config.Grid == nil {
			o.config.Grid = &layout.GridConfig{}
		}
		g := o.config.Grid
		featuredDst, orderDst, fillDst, gapDst, omitDst = &g.FeaturedParticipantAttribute, &g.ParticipantOrderAttribute, &g.VideoFillMode, &g.GridGap, &g.OmitStoppedVideo
		apply(set, "aspect", &g.VideoAspectRatio, layout.AspectRatio(*aspect))
	} else {
		if set["aspect"] {
			return o, errors.New("-aspect applies to the grid layout only: PiP's main area always fills the canvas")
		}
		if o.config.Pip == nil {
			o.config.Pip = &layout.PipConfig{}
		}
		p := o.config.Pip
		featuredDst, orderDst, fillDst, gapDst, omitDst = &p.FeaturedParticipantAttribute, &p.ParticipantOrderAttribute, &p.VideoFillMode, &p.GridGap, &p.OmitStoppedVideo
		apply(set, "pip-attr", &p.PipParticipantAttribute, *pipAttr)
		apply(set, "pip-position", &p.PipPosition, layout.PipPosition(*pipPos))
		apply(set, "pip-behavior", &p.PipBehavior, layout.PipBehavior(*pipBeh))
		apply(set, "pip-offset", &p.PipOffset, pipOff)
		apply(set, "pip-width", &p.PipWidth, pipW)
		apply(set, "pip-height", &p.PipHeight, pipH)
	}
	apply(set, "featured-attr", featuredDst, *featured)
	apply(set, "order-attr", orderDst, *order)
	apply(set, "fill", fillDst, layout.FillMode(*fill))
	apply(set, "grid-gap", gapDst, gap)
	apply(set, "omit-stopped", omitDst, *omit)
	if err := o.config.Validate(); err != nil {
		return o, err
	}

	if *n < 0 || *n > maxPeople {
		return o, fmt.Errorf("-participants %d: want 0 to %d", *n, maxPeople)
	}
	o.participants = make([]layout.Participant, *n)
	for i := range o.participants {
		o.participants[i] = layout.Participant{
			ID: fmt.Sprintf("p%d", i+1), Arrival: uint64(i + 1),
			Video: layout.Size{W: 1280, H: 720}, Attributes: map[string]string{},
		}
	}
	for _, a := range attrs {
		i, rest, err := participantRef("-attr", a, *n)
		if err != nil {
			return o, err
		}
		k, v, ok := strings.Cut(rest, "=")
		if !ok || k == "" {
			return o, fmt.Errorf("-attr %q: want I:key=value", a)
		}
		o.participants[i].Attributes[k] = v
	}
	for _, s := range sources {
		i, rest, err := participantRef("-source", s, *n)
		if err != nil {
			return o, err
		}
		w, h, err := parseSize(rest)
		if err != nil || w < 1 || h < 1 || w > 8192 || h > 8192 {
			return o, fmt.Errorf("-source %q: want I:WxH with W and H from 1 to 8192", s)
		}
		o.participants[i].Video = layout.Size{W: w, H: h}
	}
	for _, s := range stopped {
		i, err := strconv.Atoi(s)
		if err != nil || i < 1 || i > *n {
			return o, fmt.Errorf("-stopped %q: want a participant number from 1 to %d", s, *n)
		}
		o.participants[i-1].VideoStopped = true
	}
	return o, nil
}

// apply sets *dst to v when the flag name was given on the command line.
func apply[T any](set map[string]bool, name string, dst *T, v T) {
	if set[name] {
		*dst = v
	}
}

// participantRef splits "I:rest" and returns the 0-based index of participant I.
func participantRef(flagName, v string, n int) (int, string, error) {
	num, rest, ok := strings.Cut(v, ":")
	i, err := strconv.Atoi(num)
	if !ok || err != nil {
		return 0, "", fmt.Errorf("%s %q: want a participant number, a colon and a value", flagName, v)
	}
	if i < 1 || i > n {
		return 0, "", fmt.Errorf("%s %q: participant %d does not exist (there are %d)", flagName, v, i, n)
	}
	return i - 1, rest, nil
}

func parseSize(v string) (int, int, error) {
	ws, hs, ok := strings.Cut(strings.ToLower(v), "x")
	if !ok {
		return 0, 0, fmt.Errorf("%q is not WxH", v)
	}
	w, err1 := strconv.Atoi(ws)
	h, err2 := strconv.Atoi(hs)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("%q is not WxH", v)
	}
	return w, h, nil
}

// parseCanvas applies the encoder configuration's limits to -canvas.
func parseCanvas(v string) (layout.Size, error) {
	w, h, err := parseSize(v)
	switch {
	case err != nil:
		return layout.Size{}, fmt.Errorf("-canvas: %v", err)
	case w < 2 || h < 2 || w > maxSide || h > maxSide:
		return layout.Size{}, fmt.Errorf("-canvas %s: width and height must be 2 to %d", v, maxSide)
	case w%2 != 0 || h%2 != 0:
		return layout.Size{}, fmt.Errorf("-canvas %s: width and height must be even (I420)", v)
	case w*h > maxPixels:
		return layout.Size{}, fmt.Errorf("-canvas %s: %d pixels, at most %d", v, w*h, maxPixels)
	}
	return layout.Size{W: w, H: h}, nil
}

// requestMembers are the members of StartCompositionRequest.
var requestMembers = []string{"stageArn", "idempotencyToken", "layout", "destinations", "tags"}

// readRequest reads a StartComposition request file and returns its layout.
// Unknown members, at the top or inside the layout, are errors, as they are
// for the AWS CLI.
func readRequest(path string) (layout.Config, error) {
	var cfg layout.Config
	data, err := os.ReadFile(path)
	if err != nil {
		return cfg, err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return cfg, fmt.Errorf("%s: not a JSON object: %v", path, err)
	}
	for k := range top {
		if !slices.Contains(requestMembers, k) {
			return cfg, fmt.Errorf("%s: unknown member %q (a StartComposition request has %s)", path, k, strings.Join(requestMembers, ", "))
		}
	}
	raw, ok := top["layout"]
	if !ok || string(raw) == "null" {
		return cfg, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return cfg, fmt.Errorf("%s: layout: %v", path, err)
	}
	return cfg, nil
}
