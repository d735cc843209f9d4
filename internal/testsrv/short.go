package testsrv

import "testing"

// skipShort skips the test when it runs with -short (make unit): the
// servers and tools named by what are left to the full suite (make test).
func skipShort(t testing.TB, what string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("testsrv: -short: needs %s", what)
	}
}
