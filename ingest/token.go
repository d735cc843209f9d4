package ingest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tessera-media/tessera/internal/durable"
)

// TokenVersion is the version claim of the participant tokens Tessera issues.
const TokenVersion = "1.0"

// maxTokenLen bounds the size of a token accepted for verification; IVS
// tokens with 1 KB of attributes stay well below it.
const maxTokenLen = 8 << 10

// Capabilities is the token's capabilities claim.
type Capabilities struct {
	AllowPublish   bool `json:"allow_publish"`
	AllowSubscribe bool `json:"allow_subscribe"`
}

// Claims are the claims of a participant token, named as in IVS's tokens.
type Claims struct {
	// ParticipantID (jti) identifies the participant the token admits.
	ParticipantID string `json:"jti"`
	// StageARN (resource) is the stage the token is for.
	StageARN string `json:"resource"`
	// Topic is the stage id (the last part of the ARN).
	Topic string `json:"topic"`
	// WHIPURL is where the participant publishes.
	WHIPURL      string            `json:"whip_url"`
	UserID       string            `json:"user_id,omitempty"`
	Attributes   map[string]string `json:"attributes,omitempty"`
	Capabilities Capabilities      `json:"capabilities"`
	Version      string            `json:"version"`
	IssuedAt     int64             `json:"iat"`
	ExpiresAt    int64             `json:"exp"`
}

// TokenError is why a token was refused: Status is the HTTP status for the
// WHIP answer (401 for a missing, malformed, forged or expired token, 403
// for a valid token that does not allow what was asked), Reason a one-line
// explanation that never quotes the token's contents.
type TokenError struct {
	Status int
	Reason string
}

func (e *TokenError) Error() string { return "participant token: " + e.Reason }

func unauthorized(reason string) error {
	return &TokenError{Status: http.StatusUnauthorized, Reason: reason}
}
func forbidden(reason string) error { return &TokenError{Status: http.StatusForbidden, Reason: reason} }

// TokenKey signs and verifies participant tokens: JWTs signed with ES384
// (ECDSA P-384, SHA-384), the algorithm of IVS's own tokens. The key id
// (kid) is a hash of the public key, so tokens signed by a replaced key are
// refused with a clear reason.
type TokenKey struct {
	priv *ecdsa.PrivateKey
	kid  string
}

// NewTokenKey makes a fresh random key (kept in memory only).
func NewTokenKey() (*TokenKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("ingest: token key: %w", err)
	}
	return newTokenKey(priv)
}

func newTokenKey(priv *ecdsa.PrivateKey) (*TokenKey, error) {
	pub, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("ingest: token key: %w", err)
	}
	sum := sha256.Sum256(pub)
	return &TokenKey{priv: priv, kid: base64.RawURLEncoding.EncodeToString(sum[:12])}, nil
}

// LoadOrCreateTokenKey reads the PEM-encoded P-384 key at path, or, when the
// file does not exist, creates one there (mode 0600, directories as
// needed) and syncs it to disk before returning it. The key must survive
// restarts and crashes: tokens issued before a restart stay valid only
// with the same key.
func LoadOrCreateTokenKey(path string) (*TokenKey, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		k, err := NewTokenKey()
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalECPrivateKey(k.priv)
		if err != nil {
			return nil, fmt.Errorf("ingest: token key: %w", err)
		}
		if err := durable.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("ingest: token key: %w", err)
		}
		data := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
		if err := durable.WriteFile(path, data, 0o600); err != nil {
			return nil, fmt.Errorf("ingest: token key: %w", err)
		}
		return k, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ingest: token key: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "EC PRIVATE KEY" {
		return nil, fmt.Errorf("ingest: token key %s: not a PEM \"EC PRIVATE KEY\"", path)
	}
	priv, err := x509.ParseECPrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("ingest: token key %s: %w", path, err)
	}
	if priv.Curve != elliptic.P384() {
		return nil, fmt.Errorf("ingest: token key %s: curve %s, want P-384", path, priv.Curve.Params().Name)
	}
	return newTokenKey(priv)
}

type jwtHeader struct {
	Alg string `json:"alg"`
	Typ string `json:"typ,omitempty"`
	Kid string `json:"kid,omitempty"`
}

// Sign returns the compact JWT for c.
func (k *TokenKey) Sign(c Claims) (string, error) {
	h, _ := json.Marshal(jwtHeader{Alg: "ES384", Typ: "JWT", Kid: k.kid})
	p, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("ingest: sign token: %w", err)
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(h) + "." + enc.EncodeToString(p)
	sum := sha512.Sum384([]byte(signing))
	r, s, err := ecdsa.Sign(rand.Reader, k.priv, sum[:])
	if err != nil {
		return "", fmt.Errorf("ingest: sign token: %w", err)
	}
	sig := make([]byte, 96)
	r.FillBytes(sig[:48])
	s.FillBytes(sig[48:])
	return signing + "." + enc.EncodeToString(sig), nil
}

// Public returns the verifying key.
func (k *TokenKey) Public() crypto.PublicKey { return &k.priv.PublicKey }

// Verify checks the token's form, algorithm, key id, signature and time
// window (iat not more than skew in the future, exp not passed) and returns
// its claims. Capability and stage checks are the caller's (Authorize).
func (k *TokenKey) Verify(token string, now time.Time, skew time.Duration) (Claims, error) {
	var c Claims
	if token == "" {
		return c, unauthorized("missing bearer token")
	}
	if len(token) > maxTokenLen {
		return c, unauthorized("token too long")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return c, unauthorized("malformed token: not a JWT")
	}
	enc := base64.RawURLEncoding
	hb, err1 := enc.DecodeString(parts[0])
	pb, err2 := enc.DecodeString(parts[1])
	sig, err3 := enc.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return c, unauthorized("malformed token: bad base64url")
	}
	var h jwtHeader
	if err := json.Unmarshal(hb, &h); err != nil {
		return c, unauthorized("malformed token: bad header")
	}
	if h.Alg != "ES384" {
		return c, unauthorized(fmt.Sprintf("token algorithm %q not accepted (ES384 only)", trimForLog(h.Alg)))
	}
	if h.Kid != "" && h.Kid != k.kid {
		return c, unauthorized("token signed by an unknown key")
	}
	if len(sig) != 96 {
		return c, unauthorized("invalid token signature")
	}
	sum := sha512.Sum384([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:48]), new(big.Int).SetBytes(sig[48:])
	if !ecdsa.Verify(&k.priv.PublicKey, sum[:], r, s) {
		return c, unauthorized("invalid token signature")
	}
	if err := json.Unmarshal(pb, &c); err != nil {
		return Claims{}, unauthorized("malformed token: bad claims")
	}
	switch {
	case c.ParticipantID == "" || c.StageARN == "":
		return Claims{}, unauthorized("token lacks participant or stage")
	case c.ExpiresAt == 0 || now.Unix() >= c.ExpiresAt:
		return Claims{}, unauthorized("token expired")
	case c.IssuedAt > now.Add(skew).Unix():
		return Claims{}, unauthorized("token issued in the future")
	}
	return c, nil
}

// trimForLog keeps untrusted strings short and printable in messages.
func trimForLog(s string) string {
	if len(s) > 16 {
		s = s[:16] + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

// bearer extracts the token from an Authorization header value.
func bearer(h string) string {
	const p = "bearer "
	if len(h) > len(p) && strings.EqualFold(h[:len(p)], p) {
		return strings.TrimSpace(h[len(p):])
	}
	return ""
}

// sessionTokens are the bearer tokens that may end a WHIP session or
// exchange its token: the one it was created with and the latest one
// exchanged onto it (the first until an exchange). Only their SHA-256
// digests are kept, and a presented token is compared with both in
// constant time. Possession is what counts: a token that expired since is
// still the session's (a session outlives its token's expiry), and the
// creating token stays valid after an exchange because it could publish
// again (replacing the session) anyway.
type sessionTokens struct {
	created, exchanged [sha256.Size]byte
}

func newSessionTokens(token string) sessionTokens {
	d := sha256.Sum256([]byte(token))
	return sessionTokens{created: d, exchanged: d}
}

// exchange makes token the latest exchanged one.
func (t *sessionTokens) exchange(token string) { t.exchanged = sha256.Sum256([]byte(token)) }

// admits reports whether token is one of the session's.
func (t *sessionTokens) admits(token string) bool {
	d := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(d[:], t.created[:])|subtle.ConstantTimeCompare(d[:], t.exchanged[:]) == 1
}
