package ingest

import (
	"encoding/base64"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const testStage = "arn:aws:ivs:us-east-1:123456789012:stage/AbCdEf012345"

func testClaims(now time.Time) Claims {
	return Claims{
		ParticipantID: "p-1", StageARN: testStage, Topic: "AbCdEf012345", WHIPURL: "http://127.0.0.1/whip",
		UserID: "alice", Attributes: map[string]string{"featured": "true"},
		Capabilities: Capabilities{AllowPublish: true, AllowSubscribe: true},
		Version:      TokenVersion, IssuedAt: now.Unix(), ExpiresAt: now.Add(time.Hour).Unix(),
	}
}

func mustKey(t testing.TB) *TokenKey {
	k, err := NewTokenKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestTokenRoundTrip(t *testing.T) {
	k := mustKey(t)
	now := time.Now()
	tok, err := k.Sign(testClaims(now))
	if err != nil {
		t.Fatal(err)
	}
	c, err := k.Verify(tok, now, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if c.ParticipantID != "p-1" || c.StageARN != testStage || c.Attributes["featured"] != "true" || !c.Capabilities.AllowPublish || c.Version != "1.0" {
		t.Errorf("claims %+v", c)
	}
	// The header says ES384 and carries the key id.
	h, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if !strings.Contains(string(h), `"alg":"ES384"`) || !strings.Contains(string(h), `"kid"`) {
		t.Errorf("header %s", h)
	}
}

func TestTokenRefusals(t *testing.T) {
	k, other := mustKey(t), mustKey(t)
	now := time.Now()
	good, _ := k.Sign(testClaims(now))
	expiredClaims := testClaims(now.Add(-2 * time.Hour))
	expired, _ := k.Sign(expiredClaims)
	future := testClaims(now)
	future.IssuedAt = now.Add(time.Hour).Unix()
	futureTok, _ := k.Sign(future)
	forged, _ := other.Sign(testClaims(now))
	parts := strings.Split(good, ".")
	// Same header (kid), other claims: the signature no longer matches.
	c := testClaims(now)
	c.StageARN = "arn:aws:ivs:us-east-1:123456789012:stage/other"
	tamperedTok, _ := other.Sign(c)
	tampered := parts[0] + "." + strings.Split(tamperedTok, ".")[1] + "." + parts[2]
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + parts[1] + "."

	for _, tc := range []struct {
		name, token, reason string
	}{
		{"missing", "", "missing bearer token"},
		{"garbage", "abc", "malformed token"},
		{"bad base64", "a.b!.c", "malformed token"},
		{"expired", expired, "token expired"},
		{"issued in the future", futureTok, "token issued in the future"},
		{"other key", forged, "unknown key"},
		{"tampered claims", tampered, "invalid token signature"},
		{"alg none", none, "not accepted"},
		{"too long", strings.Repeat("a", 9000), "too long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := k.Verify(tc.token, now, time.Minute)
			var te *TokenError
			if !errors.As(err, &te) || te.Status != http.StatusUnauthorized || !strings.Contains(te.Reason, tc.reason) {
				t.Fatalf("err %v, want 401 %q", err, tc.reason)
			}
			if strings.Contains(te.Reason, "alice") || strings.Contains(te.Reason, "p-1") {
				t.Errorf("reason quotes the token's contents: %q", te.Reason)
			}
		})
	}
}

// The key persists: a token signed before a restart verifies after it.
func TestTokenKeyPersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "token-key.pem")
	k1, err := LoadOrCreateTokenKey(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v", err, fi.Mode())
	}
	now := time.Now()
	tok, _ := k1.Sign(testClaims(now))
	k2, err := LoadOrCreateTokenKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k2.Verify(tok, now, time.Minute); err != nil {
		t.Fatalf("reloaded key refuses its token: %v", err)
	}
	if err := os.WriteFile(path, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateTokenKey(path); err == nil || !strings.Contains(err.Error(), "PEM") {
		t.Errorf("corrupt key file: %v", err)
	}
}
