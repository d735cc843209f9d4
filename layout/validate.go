package layout

import (
	"fmt"
	"strconv"
	"strings"
)

// FieldError is one failed constraint of a request member, in the API's
// terms: the member's path (e.g. "layout.grid.gridGap"), the offending value
// and the constraint it fails.
type FieldError struct {
	Field      string
	Value      string
	Constraint string
}

func (e FieldError) Error() string {
	return fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: %s", e.Value, e.Field, e.Constraint)
}

// ValidationError lists every failed constraint of a request. Its message is
// the one AWS services send with a ValidationException.
type ValidationError []FieldError

func (v ValidationError) Error() string {
	var b strings.Builder
	if len(v) == 1 {
		b.WriteString("1 validation error detected: ")
	} else {
		fmt.Fprintf(&b, "%d validation errors detected: ", len(v))
	}
	for i, e := range v {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Validate checks c against the API model's constraints and returns a
// ValidationError naming every offending field under "layout.", or nil.
// Setting both grid and pip is rejected: a composition has one layout.
func (c Config) Validate() error {
	var errs ValidationError
	add := func(field, value, constraint string) {
		errs = append(errs, FieldError{Field: field, Value: value, Constraint: constraint})
	}
	attr := func(field, v string) {
		if len(v) > 128 {
			add(field, v, "Member must have length less than or equal to 128")
		}
		for _, r := range v {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				add(field, v, "Member must satisfy regular expression pattern: [a-zA-Z0-9-_]*")
				break
			}
		}
	}
	minInt := func(field string, p *int, lo int) {
		if p != nil && *p < lo {
			add(field, strconv.Itoa(*p), fmt.Sprintf("Member must have value greater than or equal to %d", lo))
		}
	}
	enum := func(field, v string, set ...string) {
		if v == "" {
			return
		}
		for _, s := range set {
			if v == s {
				return
			}
		}
		add(field, v, "Member must satisfy enum value set: ["+strings.Join(set, ", ")+"]")
	}
	fills := []string{string(Fill), string(Cover), string(Contain)}

	if c.Grid != nil && c.Pip != nil {
		add("layout", "grid, pip", "Member must set only one of grid or pip")
	}
	if g := c.Grid; g != nil {
		attr("layout.grid.featuredParticipantAttribute", g.FeaturedParticipantAttribute)
		attr("layout.grid.participantOrderAttribute", g.ParticipantOrderAttribute)
		enum("layout.grid.videoAspectRatio", string(g.VideoAspectRatio),
			string(AspectAuto), string(AspectVideo), string(AspectSquare), string(AspectPortrait))
		enum("layout.grid.videoFillMode", string(g.VideoFillMode), fills...)
		minInt("layout.grid.gridGap", g.GridGap, 0)
	}
	if p := c.Pip; p != nil {
		attr("layout.pip.featuredParticipantAttribute", p.FeaturedParticipantAttribute)
		attr("layout.pip.participantOrderAttribute", p.ParticipantOrderAttribute)
		attr("layout.pip.pipParticipantAttribute", p.PipParticipantAttribute)
		enum("layout.pip.videoFillMode", string(p.VideoFillMode), fills...)
		enum("layout.pip.pipBehavior", string(p.PipBehavior), string(Static), string(Dynamic))
		enum("layout.pip.pipPosition", string(p.PipPosition),
			string(TopLeft), string(TopRight), string(BottomLeft), string(BottomRight))
		minInt("layout.pip.gridGap", p.GridGap, 0)
		minInt("layout.pip.pipOffset", p.PipOffset, 0)
		minInt("layout.pip.pipWidth", p.PipWidth, 1)
		minInt("layout.pip.pipHeight", p.PipHeight, 1)
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}
