package ingest

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/internal/testsrv"
)

// A session is ended or changed only with its token (RFC 9725): DELETE and
// the token exchange without a token are 401 with WWW-Authenticate, with
// another token 403, and leave the publisher alone; with the session's
// token (the creating one, or the latest exchanged) they work. Session ids
// never appear in full in the logs.
func TestSessionAuth(t *testing.T) {
	logs := &testsrv.SyncBuffer{}
	ts := startServer(t, func(c *Config) { c.Logger = slog.New(slog.NewTextHandler(logs, nil)) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tokA := ts.token(t, "ann", nil)
	tokB := ts.token(t, "ben", nil)
	ann := startPublisher(t, publisher.Config{WHIP: ts.url + "/whip", Token: tokA, NoAudio: true})
	ben := startPublisher(t, publisher.Config{WHIP: ts.url + "/whip", Token: tokB, NoAudio: true})
	testsrv.WaitFor(t, 10*time.Second, "both participants", func() bool {
		return ts.stage.Participant("ann") != nil && ts.stage.Participant("ben") != nil
	})
	annURL := ann.Location()

	// Refused: no token, another session's token, a token of nobody.
	for _, tc := range []struct {
		name, method, url, token, body string
		status                         int
		reason                         string
	}{
		{"DELETE without a token", "DELETE", annURL, "", "", 401, "missing bearer token"},
		{"DELETE with another session's token", "DELETE", annURL, tokB, "", 403, "not this session's"},
		{"DELETE with a bogus token", "DELETE", annURL, "x.y.z", "", 403, "not this session's"},
		{"exchange without a token", "POST", annURL + "/token", "", tokA, 401, "missing bearer token"},
		{"exchange with another session's token", "POST", annURL + "/token", tokB, tokB, 403, "not this session's"},
		{"exchange with no new token", "POST", annURL + "/token", tokA, "", 400, "body must be the new token"},
		{"exchange to a bogus token", "POST", annURL + "/token", tokA, "x.y.z", 400, "new token: "},
		{"exchange to an expired token", "POST", annURL + "/token", tokA,
			ts.token(t, "ann2", func(c *Claims) { c.UserID, c.ExpiresAt = "user-ann", time.Now().Add(-time.Minute).Unix() }), 400, "expired"},
		{"DELETE of no session", "DELETE", ts.url + "/whip/sessions/0123456789abcdef0123456789abcdef", tokA, "", 404, "no such session"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body, h := post(t, tc.method, tc.url, tc.token, "application/jwt", tc.body)
			if status != tc.status || !strings.Contains(body, tc.reason) {
				t.Errorf("got %d %q, want %d %q", status, body, tc.status, tc.reason)
			}
			if wa := h.Get("WWW-Authenticate"); (status == http.StatusUnauthorized) != strings.HasPrefix(wa, "Bearer") {
				t.Errorf("%d with WWW-Authenticate %q", status, wa)
			}
		})
	}
	if ts.stage.Participant("ann") == nil || ts.stage.Participant("ben") == nil {
		t.Fatal("a refused request ended a session")
	}
	if a := ts.stage.Participant("ann").Info().Attributes; a["seat"] != "" {
		t.Errorf("a refused exchange changed the attributes: %v", a)
	}

	// The session's token exchanges; then the exchanged token ends it.
	newTok := ts.token(t, "ann2", func(c *Claims) { c.UserID, c.Attributes = "user-ann", map[string]string{"seat": "7"} })
	if err := ann.ExchangeToken(ctx, newTok); err != nil {
		t.Fatalf("token exchange with the session's token: %v", err)
	}
	if a := ts.stage.Participant("ann").Info().Attributes; a["seat"] != "7" {
		t.Errorf("attributes after the exchange: %v", a)
	}
	if status, body, _ := post(t, "DELETE", annURL, newTok, "", ""); status != http.StatusOK {
		t.Fatalf("DELETE with the exchanged token: %d %s", status, body)
	}
	select {
	case <-ann.Done():
	case <-time.After(15 * time.Second):
		t.Fatal("publisher still connected after its DELETE")
	}
	if ts.stage.Participant("ann") != nil {
		t.Error("participant still on the stage after DELETE")
	}
	if status, _, _ := post(t, "DELETE", annURL, newTok, "", ""); status != http.StatusNotFound {
		t.Errorf("second DELETE: %d, want 404", status)
	}

	// The publisher's own Close DELETEs with the token it was created with.
	benURL := ben.Location()
	if err := ben.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	testsrv.WaitFor(t, 10*time.Second, "ben to leave", func() bool { return ts.stage.Participant("ben") == nil })
	if ts.session(path.Base(benURL)) != nil {
		t.Error("session still open after Close")
	}

	out := logs.String()
	for _, u := range []string{annURL, benURL} {
		id := path.Base(u)
		if strings.Contains(out, id) {
			t.Errorf("session id %s logged in full", id)
		}
		if !strings.Contains(out, "session="+id[:8]) {
			t.Errorf("session %s not logged by its prefix", id[:8])
		}
	}
	if t.Failed() && testing.Verbose() {
		t.Log(out)
	}
}

// Session ids are 128 random bits, different every time.
func TestSessionIDs(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := newSessionID()
		if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" || seen[id] {
			t.Fatalf("session id %q (seen before: %v)", id, seen[id])
		}
		seen[id] = true
	}
}

// The token is checked before any of the body is read: a request whose
// body never arrives is refused all the same, and its connection closed.
func TestAuthBeforeBody(t *testing.T) {
	ts := startServer(t, nil)
	pub := startPublisher(t, publisher.Config{WHIP: ts.url + "/whip", Token: ts.token(t, "cat", nil), NoAudio: true})
	forged, _ := mustKey(t).Sign(testClaims(time.Now()))
	for _, tc := range []struct {
		name, method, path, token string
		status                    int
	}{
		{"publish without a token", "POST", "/whip", "", 401},
		{"publish with a forged token", "POST", "/whip", forged, 401},
		{"exchange without a token", "POST", strings.TrimPrefix(pub.Location(), ts.url) + "/token", "", 401},
		{"exchange with another token", "POST", strings.TrimPrefix(pub.Location(), ts.url) + "/token", forged, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.DialTimeout("tcp", strings.TrimPrefix(ts.url, "http://"), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			head := tc.method + " " + tc.path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sdp\r\nContent-Length: 60000\r\n"
			if tc.token != "" {
				head += "Authorization: Bearer " + tc.token + "\r\n"
			}
			if _, err := io.WriteString(conn, head+"\r\nv=0\r\n"); err != nil { // and nothing more
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no answer while the body is pending: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if n, err := conn.Read(make([]byte, 1)); n != 0 || errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("connection still open after the refusal (read %d, %v)", n, err)
			}
		})
	}
}
