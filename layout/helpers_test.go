package layout

import (
	"fmt"
	"maps"
)

// people returns n participants p1…pn arriving in that order with 16:9 video.
func people(n int) []Participant {
	ps := make([]Participant, n)
	for i := range ps {
		ps[i] = Participant{ID: fmt.Sprintf("p%d", i+1), Arrival: uint64(i + 1), Video: Size{1280, 720}}
	}
	return ps
}

// with returns a copy of ps in which participant id has attribute k=v.
func with(ps []Participant, id, k, v string) []Participant {
	out := make([]Participant, len(ps))
	copy(out, ps)
	for i := range out {
		if out[i].ID == id {
			out[i].Attributes = maps.Clone(out[i].Attributes)
			if out[i].Attributes == nil {
				out[i].Attributes = map[string]string{}
			}
			out[i].Attributes[k] = v
		}
	}
	return out
}

func intp(v int) *int { return &v }

// byID indexes slots by participant ID.
func byID(slots []Slot) map[string]Slot {
	m := make(map[string]Slot, len(slots))
	for _, s := range slots {
		m[s.Participant] = s
	}
	return m
}

// ids lists the participant IDs of slots in slot order.
func ids(slots []Slot) []string {
	out := make([]string, len(slots))
	for i, s := range slots {
		out[i] = s.Participant
	}
	return out
}
