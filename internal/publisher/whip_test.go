package publisher

import "testing"

func TestRedactLocation(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8080/whip/sessions/0123456789abcdef0123456789abcdef": "http://127.0.0.1:8080/whip/sessions/01234567…",
		"http://127.0.0.1:8080/whip/session/12345678":                          "http://127.0.0.1:8080/whip/session/12345678",
		"/whip/sessions/abc": "/whip/sessions/abc",
	} {
		if got := redactLocation(in); got != want {
			t.Errorf("redactLocation(%q) = %q, want %q", in, got, want)
		}
	}
}
