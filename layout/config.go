package layout

// FillMode is how a participant's video fits its tile (the API's VideoFillMode).
type FillMode string

// The fill modes of the API.
const (
	Fill    FillMode = "FILL"    // stretch the whole source into the tile
	Cover   FillMode = "COVER"   // scale to cover the tile, crop the centred excess
	Contain FillMode = "CONTAIN" // scale to fit inside the tile, letterbox the rest
)

// AspectRatio is the aspect of grid tiles (the API's VideoAspectRatio).
type AspectRatio string

// The aspect ratios of the API.
const (
	AspectAuto     AspectRatio = "AUTO"     // tiles take the shape that fills the area
	AspectVideo    AspectRatio = "VIDEO"    // 16:9
	AspectSquare   AspectRatio = "SQUARE"   // 1:1
	AspectPortrait AspectRatio = "PORTRAIT" // 3:4
)

// PipPosition is the corner of the PiP window (the API's PipPosition).
type PipPosition string

// The PiP positions of the API.
const (
	TopLeft     PipPosition = "TOP_LEFT"
	TopRight    PipPosition = "TOP_RIGHT"
	BottomLeft  PipPosition = "BOTTOM_LEFT"
	BottomRight PipPosition = "BOTTOM_RIGHT"
)

// PipBehavior is what the PiP window does once it is alone (the API's PipBehavior).
type PipBehavior string

// The PiP behaviours of the API.
const (
	Static  PipBehavior = "STATIC"  // the window keeps its position and size
	Dynamic PipBehavior = "DYNAMIC" // the window expands to the whole canvas
)

// Defaults of the API, applied by WithDefaults and Arrange.
const (
	DefaultGridGap     = 2
	DefaultPipGridGap  = 0
	DefaultPipOffset   = 0
	DefaultAspect      = AspectVideo
	DefaultGridFill    = Cover   // grid tiles, when videoFillMode is unset
	DefaultFeatureFill = Contain // the featured slot, when videoFillMode is unset
	DefaultPipFill     = Cover
	DefaultPipPosition = BottomRight
	DefaultPipBehavior = Static
)

// Config is the API's LayoutConfiguration: exactly one of Grid and Pip, or
// neither for the default grid. Its JSON form is the API's.
type Config struct {
	Grid *GridConfig `json:"grid,omitempty"`
	Pip  *PipConfig  `json:"pip,omitempty"`
}

// GridConfig is the API's GridConfiguration. Zero values mean "unset".
type GridConfig struct {
	FeaturedParticipantAttribute string      `json:"featuredParticipantAttribute,omitempty"`
	OmitStoppedVideo             bool        `json:"omitStoppedVideo"`
	VideoAspectRatio             AspectRatio `json:"videoAspectRatio,omitempty"`
	// VideoFillMode, when unset, is COVER for grid tiles and CONTAIN for the
	// featured slot; WithDefaults leaves it unset for that reason.
	VideoFillMode             FillMode `json:"videoFillMode,omitempty"`
	GridGap                   *int     `json:"gridGap,omitempty"`
	ParticipantOrderAttribute string   `json:"participantOrderAttribute,omitempty"`
}

// PipConfig is the API's PipConfiguration. Zero values and nil pointers mean
// "unset"; PipWidth and PipHeight stay nil to be derived (see Arrange).
type PipConfig struct {
	FeaturedParticipantAttribute string      `json:"featuredParticipantAttribute,omitempty"`
	OmitStoppedVideo             bool        `json:"omitStoppedVideo"`
	VideoFillMode                FillMode    `json:"videoFillMode,omitempty"`
	GridGap                      *int        `json:"gridGap,omitempty"`
	PipParticipantAttribute      string      `json:"pipParticipantAttribute,omitempty"`
	PipBehavior                  PipBehavior `json:"pipBehavior,omitempty"`
	PipOffset                    *int        `json:"pipOffset,omitempty"`
	PipPosition                  PipPosition `json:"pipPosition,omitempty"`
	PipWidth                     *int        `json:"pipWidth,omitempty"`
	PipHeight                    *int        `json:"pipHeight,omitempty"`
	ParticipantOrderAttribute    string      `json:"participantOrderAttribute,omitempty"`
}

// IsPip reports whether the configuration selects the picture-in-picture layout.
func (c Config) IsPip() bool { return c.Pip != nil && c.Grid == nil }

// WithDefaults returns a copy of c with IVS's defaults filled in, as the API
// echoes a layout back: no layout becomes the default grid; gridGap 2 (grid)
// or 0 (pip); videoAspectRatio VIDEO; pip videoFillMode COVER, pipPosition
// BOTTOM_RIGHT, pipBehavior STATIC, pipOffset 0. The grid's videoFillMode
// stays unset because its default depends on the slot (COVER for grid tiles,
// CONTAIN for the featured slot). c itself is not modified.
func (c Config) WithDefaults() Config {
	intp := func(p *int, def int) *int {
		v := def
		if p != nil {
			v = *p
		}
		return &v
	}
	var out Config
	if c.Pip != nil {
		p := *c.Pip
		p.GridGap = intp(p.GridGap, DefaultPipGridGap)
		p.PipOffset = intp(p.PipOffset, DefaultPipOffset)
		if p.PipWidth != nil {
			p.PipWidth = intp(p.PipWidth, 0)
		}
		if p.PipHeight != nil {
			p.PipHeight = intp(p.PipHeight, 0)
		}
		p.VideoFillMode = or(p.VideoFillMode, DefaultPipFill)
		p.PipPosition = or(p.PipPosition, DefaultPipPosition)
		p.PipBehavior = or(p.PipBehavior, DefaultPipBehavior)
		out.Pip = &p
	}
	if c.Grid != nil || c.Pip == nil {
		var g GridConfig
		if c.Grid != nil {
			g = *c.Grid
		}
		g.GridGap = intp(g.GridGap, DefaultGridGap)
		g.VideoAspectRatio = or(g.VideoAspectRatio, DefaultAspect)
		out.Grid = &g
	}
	return out
}

func or[T ~string](v, def T) T {
	if v == "" {
		return def
	}
	return v
}

// settings is a Config resolved for Arrange: every default applied, gaps and
// offsets rounded up to even pixels.
type settings struct {
	pip          bool
	featuredAttr string
	orderAttr    string
	pipAttr      string
	omitStopped  bool
	aspect       AspectRatio
	gridFill     FillMode
	featuredFill FillMode
	gap          int
	position     PipPosition
	behavior     PipBehavior
	offset       int
	pipW, pipH   int // 0: derive
}

// resolve applies the defaults. Values that Validate would reject are
// replaced by their defaults (negative numbers, unknown enum values), so
// Arrange never fails.
func (c Config) resolve() settings {
	nonNeg := func(p *int, def int) int {
		if p == nil || *p < 0 {
			return def
		}
		return *p
	}
	if c.IsPip() {
		p := c.Pip
		s := settings{
			pip:          true,
			featuredAttr: p.FeaturedParticipantAttribute,
			orderAttr:    p.ParticipantOrderAttribute,
			pipAttr:      p.PipParticipantAttribute,
			omitStopped:  p.OmitStoppedVideo,
			aspect:       AspectAuto, // PiP has no videoAspectRatio: its grid fills the canvas
			gridFill:     knownFill(p.VideoFillMode, DefaultPipFill),
			gap:          evenUp(nonNeg(p.GridGap, DefaultPipGridGap)),
			position:     DefaultPipPosition,
			behavior:     DefaultPipBehavior,
			offset:       evenUp(nonNeg(p.PipOffset, DefaultPipOffset)),
			pipW:         nonNeg(p.PipWidth, 0),
			pipH:         nonNeg(p.PipHeight, 0),
		}
		s.featuredFill = s.gridFill
		switch p.PipPosition {
		case TopLeft, TopRight, BottomLeft, BottomRight:
			s.position = p.PipPosition
		}
		if p.PipBehavior == Dynamic {
			s.behavior = Dynamic
		}
		return s
	}
	var g GridConfig
	if c.Grid != nil {
		g = *c.Grid
	}
	s := settings{
		featuredAttr: g.FeaturedParticipantAttribute,
		orderAttr:    g.ParticipantOrderAttribute,
		omitStopped:  g.OmitStoppedVideo,
		aspect:       DefaultAspect,
		gridFill:     knownFill(g.VideoFillMode, DefaultGridFill),
		featuredFill: knownFill(g.VideoFillMode, DefaultFeatureFill),
		gap:          evenUp(nonNeg(g.GridGap, DefaultGridGap)),
	}
	switch g.VideoAspectRatio {
	case AspectAuto, AspectVideo, AspectSquare, AspectPortrait:
		s.aspect = g.VideoAspectRatio
	}
	return s
}

func knownFill(m, def FillMode) FillMode {
	switch m {
	case Fill, Cover, Contain:
		return m
	}
	return def
}

// ratio returns the tile aspect (width/height) of a fixed aspect ratio, or
// 0 for AUTO.
func (a AspectRatio) ratio() float64 {
	switch a {
	case AspectVideo:
		return 16.0 / 9
	case AspectSquare:
		return 1
	case AspectPortrait:
		return 3.0 / 4
	}
	return 0
}
