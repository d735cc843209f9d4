//go:build !linux

package schedkeep

const supported = false

func waitSignal() {}
