// Package glyph provides the one typeface Tessera draws text with (labels
// on placeholder tiles, names on synthetic test pictures): Go Bold, parsed
// once, as a face at any pixel size.
package glyph

import (
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/opentype"
)

var (
	once   sync.Once
	parsed *opentype.Font
)

// Face returns Go Bold at px pixels (72 DPI, full hinting). The parsed font
// is shared; every face is new, because faces are not safe for concurrent
// use.
func Face(px int) font.Face {
	once.Do(func() {
		var err error
		if parsed, err = opentype.Parse(gobold.TTF); err != nil {
			panic(err) // the embedded Go font always parses
		}
	})
	f, err := opentype.NewFace(parsed, &opentype.FaceOptions{Size: float64(px), DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		panic(err)
	}
	return f
}
