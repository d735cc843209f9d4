package layout

import (
	"cmp"
	"slices"
)

// Participant is what the layout needs to know of a stage participant.
type Participant struct {
	// ID is the participant id; slots refer to participants by it.
	ID string
	// UserID is the token's userId (placeholders show it, else the ID).
	UserID string
	// Attributes are the participant token's attributes.
	Attributes map[string]string
	// Arrival orders participants by the time they joined the stage:
	// smaller values arrived first.
	Arrival uint64
	// Video is the size of the participant's video; the zero Size means it
	// is not known (yet), and 16:9 is assumed.
	Video Size
	// VideoStopped means the participant publishes no video, or stopped or
	// muted it: it is drawn as a placeholder, or left out with omitStoppedVideo.
	VideoStopped bool
}

// Label is the text that identifies the participant on screen: its userId,
// or its id when it has none.
func (p Participant) Label() string {
	if p.UserID != "" {
		return p.UserID
	}
	return p.ID
}

// flag reports whether the participant's attribute key is the string "true",
// the API's convention for featuredParticipantAttribute and
// pipParticipantAttribute. An empty key never matches.
func (p Participant) flag(key string) bool {
	return key != "" && p.Attributes[key] == "true"
}

// Order returns the indices of ps in composition order.
//
// Without an order attribute (attr == ""), participants are ordered by
// arrival. With one, participants whose attribute value is an integer come
// first, in numeric order; the others follow by arrival. An integer is an
// optional sign followed by ASCII decimal digits ("7", "-3", "+12", "007");
// its magnitude is unbounded, so values beyond 64 bits still compare exactly.
// Anything else ("", "1.5", " 2", "x") is not an integer and falls back to
// arrival order. Ties are broken by arrival, then by ID, then by position
// in ps, so the order is total and deterministic.
func Order(ps []Participant, attr string) []int {
	idx := make([]int, len(ps))
	keys := make([]intKey, len(ps))
	for i := range ps {
		idx[i] = i
		if attr != "" {
			keys[i] = parseIntKey(ps[i].Attributes[attr])
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		ka, kb := keys[a], keys[b]
		if ka.ok != kb.ok {
			if ka.ok {
				return -1
			}
			return 1
		}
		if ka.ok {
			if c := ka.compare(kb); c != 0 {
				return c
			}
		}
		if c := cmp.Compare(ps[a].Arrival, ps[b].Arrival); c != 0 {
			return c
		}
		return cmp.Compare(ps[a].ID, ps[b].ID)
	})
	return idx
}

// intKey is a parsed decimal integer of any length: its sign and its digits
// without leading zeros ("" for zero).
type intKey struct {
	ok     bool
	neg    bool
	digits string
}

func parseIntKey(s string) intKey {
	neg := false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" {
		return intKey{}
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return intKey{}
		}
	}
	for len(s) > 0 && s[0] == '0' {
		s = s[1:]
	}
	return intKey{ok: true, neg: neg && s != "", digits: s}
}

func (k intKey) compare(o intKey) int {
	if k.neg != o.neg {
		if k.neg {
			return -1
		}
		return 1
	}
	c := cmp.Compare(len(k.digits), len(o.digits))
	if c == 0 {
		c = cmp.Compare(k.digits, o.digits)
	}
	if k.neg {
		return -c
	}
	return c
}
