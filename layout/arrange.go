package layout

import (
	"cmp"
	"math"
	"slices"
)

// Role is what a slot shows.
type Role string

// The slot roles.
const (
	RoleGrid        Role = "grid"        // an ordinary tile of the grid or the strip
	RoleFeatured    Role = "featured"    // the featured slot
	RolePip         Role = "pip"         // the PiP window
	RolePlaceholder Role = "placeholder" // a participant without video, in any of the above
)

// Slot is one participant's place on the canvas.
type Slot struct {
	Participant string   // the participant's ID
	Index       int      // the participant's index in the slice given to Arrange
	Order       int      // its position in composition order, 0 first
	Role        Role     // what the slot shows
	Rect        Rect     // the tile, inside the canvas, even-aligned
	Fill        FillMode // how the video fits the tile (see Fit)
	Z           int      // stacking: 0 for the grid, 1 for the PiP window
}

// stripFraction: the strip below a featured slot takes 1/stripFraction of
// the canvas height left after the gap between slot and strip.
const stripFraction = 4

// Arrange places participants on a canvas of the given size for layout cfg
// and returns their slots in drawing order (by Z, then composition order).
// cfg should have passed Validate; values it would reject fall back to the
// defaults. Odd canvas dimensions are rounded down to even; a canvas smaller
// than 2×2 holds nothing. Participants that do not fit (tiles would be
// smaller than 2×2 pixels) get no slot.
//
// Grid layout:
//   - Participants are ordered by Order. With omitStoppedVideo, those whose
//     video is stopped are left out; otherwise they keep their tile with
//     RolePlaceholder.
//   - Without a featured participant, all tiles are equal and packed as
//     packGrid describes: tiles of videoAspectRatio (AUTO: of the shape that
//     fills the canvas), the column count that makes them largest, rows
//     filled from the top, the last partial row centred, the block centred,
//     gridGap between tiles and none at the canvas edges. An odd gridGap is
//     rounded up to even so that tiles stay I420-aligned.
//   - The featured participant is the first in order whose
//     featuredParticipantAttribute is "true". It takes the top of the canvas
//     above a strip a quarter of the canvas high (of the height left after
//     gridGap, rounded down to even), in which the others are
//     packed as equal tiles (one row while they fit at the strip's height,
//     more rows when that gives larger tiles; with AUTO they keep their video
//     aspect). Alone, it fills the canvas. Others carrying the attribute are
//     ordinary tiles. When the strip would be
//     less than 2 pixels high the featured participant fills the canvas and
//     the others get no slot.
//   - Grid tiles use videoFillMode, default COVER; the featured slot too,
//     default CONTAIN.
//
// PiP layout:
//   - The PiP participant is the first in order whose pipParticipantAttribute
//     is "true"; if nobody carries it, the second participant in order,
//     where the featured participant counts as first (it belongs to the main
//     area, so it is never put in the window implicitly).
//   - Everybody else is arranged over the whole canvas as the grid above,
//     featured rules included, with tiles that fill the canvas (AUTO) and
//     the PiP configuration's gridGap and videoFillMode (default COVER for
//     every slot).
//   - The window floats on top (Z 1) at pipPosition, pipOffset pixels from
//     the two nearest canvas edges; its size is described at pipWindow.
//   - When the PiP participant is alone, STATIC keeps the window where it is
//     and DYNAMIC expands it to the whole canvas.
func Arrange(canvas Size, cfg Config, participants []Participant) []Slot {
	s := cfg.resolve()
	area := Rect{W: evenDown(canvas.W), H: evenDown(canvas.H)}
	if area.Empty() || len(participants) == 0 {
		return nil
	}
	a := arranger{s: s, ps: participants, slots: make([]Slot, 0, len(participants))}
	order := Order(participants, s.orderAttr)
	a.pos = make([]int, len(participants))
	visible := make([]int, 0, len(order))
	for pos, i := range order {
		a.pos[i] = pos
		if !(s.omitStopped && participants[i].VideoStopped) {
			visible = append(visible, i)
		}
	}

	if !s.pip {
		a.main(area, visible, a.first(visible, s.featuredAttr, -1))
	} else {
		pip := a.first(visible, s.pipAttr, -1)
		featured := a.first(visible, s.featuredAttr, pip)
		if pip < 0 && len(visible) >= 2 {
			lead := featured
			if lead < 0 {
				lead = visible[0]
			}
			pip = visible[0]
			if pip == lead {
				pip = visible[1]
			}
		}
		rest := visible
		if pip >= 0 {
			rest = slices.DeleteFunc(slices.Clone(visible), func(i int) bool { return i == pip })
		}
		a.main(area, rest, featured)
		if pip >= 0 {
			win := pipWindow(area, s, participants[pip].Video)
			if len(rest) == 0 && s.behavior == Dynamic {
				win = area
			}
			a.add(pip, RolePip, win, s.gridFill, 1)
		}
	}
	slices.SortFunc(a.slots, func(x, y Slot) int {
		return cmp.Or(cmp.Compare(x.Z, y.Z), cmp.Compare(x.Order, y.Order))
	})
	return a.slots
}

// arranger collects the slots of one Arrange call.
type arranger struct {
	s     settings
	ps    []Participant
	pos   []int // composition order position per participant index
	slots []Slot
}

// first returns the first participant of members (in order) whose attribute
// key is "true", other than skip; -1 if none.
func (a *arranger) first(members []int, key string, skip int) int {
	for _, i := range members {
		if i != skip && a.ps[i].flag(key) {
			return i
		}
	}
	return -1
}

func (a *arranger) add(i int, role Role, r Rect, fill FillMode, z int) {
	if a.ps[i].VideoStopped {
		role = RolePlaceholder
	}
	a.slots = append(a.slots, Slot{
		Participant: a.ps[i].ID, Index: i, Order: a.pos[i],
		Role: role, Rect: r, Fill: fill, Z: z,
	})
}

// main lays members out in area: the featured participant (if ≥ 0, and a
// member) on top of a strip of the others, or all of them as one grid.
func (a *arranger) main(area Rect, members []int, featured int) {
	if len(members) == 0 {
		return
	}
	others := members
	if featured >= 0 {
		others = slices.DeleteFunc(slices.Clone(members), func(i int) bool { return i == featured })
		strip := evenDown((area.H - a.s.gap) / stripFraction)
		top := area.H - a.s.gap - strip
		if len(others) == 0 || strip < 2 {
			a.add(featured, RoleFeatured, area, a.s.featuredFill, 0)
			return
		}
		a.add(featured, RoleFeatured, Rect{X: area.X, Y: area.Y, W: area.W, H: top}, a.s.featuredFill, 0)
		area = Rect{X: area.X, Y: area.Y + top + a.s.gap, W: area.W, H: strip}
	}
	ratio := a.s.aspect.ratio()
	if ratio == 0 && featured >= 0 {
		ratio = a.videoAspect(others) // AUTO in the strip: the video's own shape
	}
	for k, r := range packGrid(area, len(others), ratio, a.videoAspect(others), a.s.gap) {
		a.add(others[k], RoleGrid, r, a.s.gridFill, 0)
	}
}

// videoAspect returns the geometric mean of the known video aspects of the
// members with video, or 16:9 when none is known.
func (a *arranger) videoAspect(members []int) float64 {
	sum, n := 0.0, 0
	for _, i := range members {
		if p := a.ps[i]; !p.VideoStopped && p.Video.Known() {
			sum += math.Log(p.Video.Aspect())
			n++
		}
	}
	if n == 0 {
		return videoAspect
	}
	return math.Exp(sum / float64(n))
}
