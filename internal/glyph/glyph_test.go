package glyph

import "testing"

func TestFace(t *testing.T) {
	small, large := Face(12), Face(48)
	if small.Metrics().Height >= large.Metrics().Height {
		t.Errorf("12 px face height %v not below 48 px face height %v", small.Metrics().Height, large.Metrics().Height)
	}
	if _, adv, ok := large.GlyphBounds('W'); !ok || adv <= 0 {
		t.Error("no glyph for W")
	}
}
