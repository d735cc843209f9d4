package control

import (
	"slices"
	"testing"

	"github.com/tessera-media/tessera/contract"
	"github.com/tessera-media/tessera/control/wire"
)

// The states the pipeline reports are the API's: every contract.State is a
// DestinationState, and the composition states are CompositionState's.
func TestStatesAreTheModels(t *testing.T) {
	m, err := wire.Load()
	if err != nil {
		t.Fatal(err)
	}
	all := []contract.State{contract.StateStarting, contract.StateActive, contract.StateReconnecting,
		contract.StateStopping, contract.StateStopped, contract.StateFailed}
	dest := m.Shape("DestinationState")
	comp := m.Shape("CompositionState")
	if dest == nil || comp == nil {
		t.Fatal("the model has no DestinationState or CompositionState")
	}
	var got []string
	for _, s := range all {
		got = append(got, string(s))
	}
	if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(dest.Enum))) {
		t.Errorf("contract states %v, model's DestinationState %v", got, dest.Enum)
	}
	for _, s := range comp.Enum {
		if !slices.Contains(got, s) {
			t.Errorf("CompositionState %s has no contract.State", s)
		}
	}
	for _, s := range all {
		if want := s == contract.StateStopped || s == contract.StateFailed; s.Final() != want {
			t.Errorf("%s.Final() = %v", s, s.Final())
		}
	}
}
