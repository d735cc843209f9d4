//go:build !libyuv

package bench

import "github.com/tessera-media/tessera/layout"

// openLibyuv stands in for the libyuv peer (libyuv.go) in builds without the
// libyuv build tag: the benchmarks and TestPeersAgree skip it.
func openLibyuv(scenario, []layout.Slot, []layout.Participant) (peer, error) {
	return nil, errNoLibyuv
}
