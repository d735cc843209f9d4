package layout

import (
	"slices"
	"testing"
)

func TestOrder(t *testing.T) {
	// Arrival sequence is the slice position unless stated; values of the
	// order attribute "o" are given per participant ("-" = not set).
	tests := []struct {
		name   string
		values []string
		attr   string
		want   []string
	}{
		{"arrival without attribute", []string{"3", "1", "2"}, "", []string{"p1", "p2", "p3"}},
		{"numeric ascending", []string{"3", "1", "2"}, "o", []string{"p2", "p3", "p1"}},
		{"numeric, not lexicographic", []string{"10", "9", "100"}, "o", []string{"p2", "p1", "p3"}},
		{"negatives first", []string{"0", "-5", "2", "-10"}, "o", []string{"p4", "p2", "p1", "p3"}},
		{"ties by arrival", []string{"1", "0", "1", "0"}, "o", []string{"p2", "p4", "p1", "p3"}},
		{"leading zeros and plus are the same number", []string{"007", "+7", "7", "6"}, "o", []string{"p4", "p1", "p2", "p3"}},
		{"minus zero is zero", []string{"0", "-0", "-1"}, "o", []string{"p3", "p1", "p2"}},
		{"unset and empty follow by arrival", []string{"-", "", "5"}, "o", []string{"p3", "p1", "p2"}},
		{"invalid values fall back to arrival", []string{"1.5", "x", " 2", "3", "2 ", "--1", "+", "0x1"}, "o",
			[]string{"p4", "p1", "p2", "p3", "p5", "p6", "p7", "p8"}},
		{"beyond 64 bits", []string{"99999999999999999999999", "-99999999999999999999999", "18446744073709551616", "1"}, "o",
			[]string{"p2", "p4", "p3", "p1"}},
		{"other attributes do not count", []string{"3", "1"}, "rank", []string{"p1", "p2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := people(len(tt.values))
			for i, v := range tt.values {
				if v != "-" {
					ps = with(ps, ps[i].ID, "o", v)
				}
			}
			var got []string
			for _, i := range Order(ps, tt.attr) {
				got = append(got, ps[i].ID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Order = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOrderUsesArrivalNotSlicePosition(t *testing.T) {
	ps := people(4)
	ps[0].Arrival, ps[1].Arrival, ps[2].Arrival, ps[3].Arrival = 40, 10, 30, 20
	var got []string
	for _, i := range Order(ps, "") {
		got = append(got, ps[i].ID)
	}
	if want := []string{"p2", "p4", "p3", "p1"}; !slices.Equal(got, want) {
		t.Errorf("Order = %v, want %v", got, want)
	}
	// Equal arrival: the ID decides, whatever the slice order.
	ps[0].Arrival, ps[1].Arrival = 5, 5
	a := Order([]Participant{ps[1], ps[0]}, "")
	b := Order([]Participant{ps[0], ps[1]}, "")
	if []Participant{ps[1], ps[0]}[a[0]].ID != "p1" || []Participant{ps[0], ps[1]}[b[0]].ID != "p1" {
		t.Errorf("equal arrival is not broken by ID")
	}
}
