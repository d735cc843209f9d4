package ingest

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
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

// signSelf signs claims as an application does with its own key pair:
// ES384, the header's kid the public key's ARN.
func signSelf(t testing.TB, priv *ecdsa.PrivateKey, kid string, claims any) string {
	t.Helper()
	tok, err := signJWT(priv, kid, claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

const testKeyARN = "arn:aws:ivs:us-east-1:123456789012:public-key/KeyAbCdEf012"

// Tokens signed with an imported public key verify under IVS's rules for
// self-signed tokens, and not once the key is removed.
func TestSelfSignedTokens(t *testing.T) {
	own := mustKey(t)
	priv, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var keys PublicKeys
	keys.Set(testKeyARN, &priv.PublicKey)
	now := time.Now()
	good := func() Claims {
		c := testClaims(now)
		c.ParticipantID = "self_signed-1"
		c.EventsURL = "wss://events.example"
		return c
	}
	c, err := verifyToken(signSelf(t, priv, testKeyARN, good()), own, &keys, now, time.Minute)
	if err != nil || c.KeyARN != testKeyARN || c.ParticipantID != "self_signed-1" || c.EventsURL != "wss://events.example" {
		t.Fatalf("self-signed token: %+v, %v", c, err)
	}
	// The server's own tokens still verify with the key set in place.
	if _, err := verifyToken(signSelf(t, own.priv, own.kid, testClaims(now)), own, &keys, now, time.Minute); err != nil {
		t.Fatalf("own token: %v", err)
	}

	for _, tc := range []struct {
		name   string
		kid    string
		mutate func(*Claims)
		reason string
	}{
		{"unknown key", "arn:aws:ivs:us-east-1:123456789012:public-key/Unknown", nil, "unknown key"},
		{"expired", testKeyARN, func(c *Claims) { c.IssuedAt, c.ExpiresAt = now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix() }, "token expired"},
		{"no jti", testKeyARN, func(c *Claims) { c.ParticipantID = "" }, "mandatory claim"},
		{"no topic", testKeyARN, func(c *Claims) { c.Topic = "" }, "mandatory claim"},
		{"no whip_url", testKeyARN, func(c *Claims) { c.WHIPURL = "" }, "mandatory claim"},
		{"no iat", testKeyARN, func(c *Claims) { c.IssuedAt = 0 }, "mandatory claim"},
		{"jti characters", testKeyARN, func(c *Claims) { c.ParticipantID = "a b" }, "jti"},
		{"jti length", testKeyARN, func(c *Claims) { c.ParticipantID = strings.Repeat("a", 65) }, "jti"},
		{"topic not the stage", testKeyARN, func(c *Claims) { c.Topic = "other" }, "topic"},
		{"version", testKeyARN, func(c *Claims) { c.Version = "2.0" }, "version"},
		{"lifetime", testKeyARN, func(c *Claims) { c.ExpiresAt = now.Add(15 * 24 * time.Hour).Unix() }, "14 days"},
		{"user_id", testKeyARN, func(c *Claims) { c.UserID = strings.Repeat("u", 129) }, "user_id"},
		{"attributes", testKeyARN, func(c *Claims) { c.Attributes = map[string]string{"a": strings.Repeat("v", 1024)} }, "1 KB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good()
			if tc.mutate != nil {
				tc.mutate(&c)
			}
			_, err := verifyToken(signSelf(t, priv, tc.kid, c), own, &keys, now, time.Minute)
			var te *TokenError
			if !errors.As(err, &te) || te.Status != http.StatusUnauthorized || !strings.Contains(te.Reason, tc.reason) {
				t.Fatalf("err %v, want 401 %q", err, tc.reason)
			}
		})
	}

	// Signed by another key under the imported key's ARN: the signature
	// does not verify.
	other, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if _, err := verifyToken(signSelf(t, other, testKeyARN, good()), own, &keys, now, time.Minute); err == nil || !strings.Contains(err.Error(), "invalid token signature") {
		t.Errorf("forged: %v", err)
	}
	keys.Delete(testKeyARN)
	if _, err := verifyToken(signSelf(t, priv, testKeyARN, good()), own, &keys, now, time.Minute); err == nil || !strings.Contains(err.Error(), "unknown key") {
		t.Errorf("after Delete: %v", err)
	}
}

// ParsePublicKey takes P-384 SPKI PEM only, and says what else it got.
func TestParsePublicKey(t *testing.T) {
	pemOf := func(pub any) string {
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if k, der, err := ParsePublicKey(pemOf(&p384.PublicKey)); err != nil || !k.Equal(&p384.PublicKey) || len(der) == 0 {
		t.Fatalf("P-384: %v", err)
	}
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	for _, tc := range []struct{ name, material, reason string }{
		{"P-256", pemOf(&p256.PublicKey), "curve P-256, not P-384"},
		{"Ed25519", pemOf(edPub), "Ed25519 key"},
		{"not PEM", "hello", "PEM"},
		{"private key", string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: []byte{1}})), `"PUBLIC KEY"`},
		{"bad DER", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1, 2, 3}})), "not a valid public key"},
	} {
		if _, _, err := ParsePublicKey(tc.material); err == nil || !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.reason)
		}
	}
}
