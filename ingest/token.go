package ingest

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
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
	"maps"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
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
	WHIPURL string `json:"whip_url"`
	// EventsURL is the stage's events endpoint (self-signed tokens carry
	// it; Tessera's stages have none, so any value is accepted).
	EventsURL    string            `json:"events_url,omitempty"`
	UserID       string            `json:"user_id,omitempty"`
	Attributes   map[string]string `json:"attributes,omitempty"`
	Capabilities Capabilities      `json:"capabilities"`
	Version      string            `json:"version"`
	IssuedAt     int64             `json:"iat"`
	ExpiresAt    int64             `json:"exp"`
	// KeyARN is, for a self-signed token, the ARN of the imported public
	// key that verified it (the header's kid); "" for the server's own.
	KeyARN string `json:"-"`
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
		data, err := k.MarshalPEM()
		if err != nil {
			return nil, err
		}
		if err := durable.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("ingest: token key: %w", err)
		}
		if err := durable.WriteFile(path, data, 0o600); err != nil {
			return nil, fmt.Errorf("ingest: token key: %w", err)
		}
		return k, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ingest: token key: %w", err)
	}
	k, err := ParseTokenKey(b)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return k, nil
}

// MarshalPEM encodes the key as a PEM "EC PRIVATE KEY" block (what
// ParseTokenKey reads).
func (k *TokenKey) MarshalPEM() ([]byte, error) {
	der, err := x509.MarshalECPrivateKey(k.priv)
	if err != nil {
		return nil, fmt.Errorf("ingest: token key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
}

// ParseTokenKey reads a PEM-encoded P-384 key (MarshalPEM's).
func ParseTokenKey(b []byte) (*TokenKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "EC PRIVATE KEY" {
		return nil, errors.New("ingest: token key: not a PEM \"EC PRIVATE KEY\"")
	}
	priv, err := x509.ParseECPrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("ingest: token key: %w", err)
	}
	if priv.Curve != elliptic.P384() {
		return nil, fmt.Errorf("ingest: token key: curve %s, want P-384", priv.Curve.Params().Name)
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
	return signJWT(k.priv, k.kid, c)
}

// signJWT returns the compact ES384 JWT of claims, with kid in its header.
func signJWT(priv *ecdsa.PrivateKey, kid string, claims any) (string, error) {
	h, _ := json.Marshal(jwtHeader{Alg: "ES384", Typ: "JWT", Kid: kid})
	p, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("ingest: sign token: %w", err)
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(h) + "." + enc.EncodeToString(p)
	sum := sha512.Sum384([]byte(signing))
	r, s, err := ecdsa.Sign(rand.Reader, priv, sum[:])
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

// Verify checks a token signed with this key: its form, algorithm, key id,
// signature and time window (iat not more than skew in the future, exp not
// passed), and returns its claims. Capability and stage checks are the
// caller's.
func (k *TokenKey) Verify(token string, now time.Time, skew time.Duration) (Claims, error) {
	return verifyToken(token, k, nil, now, skew)
}

// verifyToken verifies a token signed either with the server's own key
// (own) or, under IVS's rules for self-signed tokens, with one of the
// imported public keys (keys, which may be nil): the header's kid picks the
// key, and a kid naming neither is refused.
func verifyToken(token string, own *TokenKey, keys *PublicKeys, now time.Time, skew time.Duration) (Claims, error) {
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
	pub, selfSigned := &own.priv.PublicKey, false
	if h.Kid != "" && h.Kid != own.kid {
		if pub = keys.get(h.Kid); pub == nil {
			return c, unauthorized("token signed by an unknown key (no imported public key has the ARN its kid names)")
		}
		selfSigned = true
	}
	if len(sig) != 96 {
		return c, unauthorized("invalid token signature")
	}
	sum := sha512.Sum384([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:48]), new(big.Int).SetBytes(sig[48:])
	if !ecdsa.Verify(pub, sum[:], r, s) {
		return c, unauthorized("invalid token signature")
	}
	if err := json.Unmarshal(pb, &c); err != nil {
		return Claims{}, unauthorized("malformed token: bad claims")
	}
	if selfSigned {
		if err := checkSelfSigned(c); err != nil {
			return Claims{}, err
		}
		c.KeyARN = h.Kid
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

// Limits of self-signed token claims (IVS).
const (
	maxTokenLifetime  = 14 * 24 * time.Hour // exp − iat
	maxParticipantID  = 64
	maxUserID         = 128
	maxAttributeBytes = 1024
)

// checkSelfSigned applies IVS's rules for the claims of a self-signed token:
// every claim but user_id present (events_url may be empty: Tessera's
// stages have no events endpoint), jti of at most 64 characters
// [A-Za-z0-9_-], topic the id of the resource stage ARN, version "1.0", a
// lifetime of at most 14 days, user_id of at most 128 bytes and attributes
// of at most 1 KB.
func checkSelfSigned(c Claims) error {
	switch {
	case c.ParticipantID == "" || c.StageARN == "" || c.Topic == "" || c.WHIPURL == "" || c.IssuedAt == 0 || c.ExpiresAt == 0:
		return unauthorized("self-signed token lacks a mandatory claim (jti, resource, topic, whip_url, iat and exp are required)")
	case len(c.ParticipantID) > maxParticipantID || strings.IndexFunc(c.ParticipantID, notIDChar) >= 0:
		return unauthorized("self-signed token's jti must be 1 to 64 characters of [A-Za-z0-9_-]")
	case !strings.HasSuffix(c.StageARN, "/"+c.Topic):
		return unauthorized("self-signed token's topic is not the id of its resource (the stage ARN)")
	case c.Version != TokenVersion:
		return unauthorized(`self-signed token's version must be "1.0"`)
	case c.ExpiresAt-c.IssuedAt > int64(maxTokenLifetime/time.Second):
		return unauthorized("self-signed token's lifetime (exp − iat) exceeds 14 days")
	case len(c.UserID) > maxUserID:
		return unauthorized("self-signed token's user_id exceeds 128 bytes")
	}
	total := 0
	for k, v := range c.Attributes {
		total += len(k) + len(v)
	}
	if total > maxAttributeBytes {
		return unauthorized("self-signed token's attributes exceed 1 KB in total")
	}
	return nil
}

func notIDChar(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-')
}

// PublicKeys are the public keys, besides the server's own, that
// participant tokens may be signed with (IVS's ImportPublicKey), by ARN: a
// token whose header kid is one of them is verified with it, under IVS's
// rules for self-signed tokens. The control plane fills the set; a key
// removed from it refuses every token signed with it from then on. Safe for
// concurrent use; the zero value is empty.
type PublicKeys struct {
	mu   sync.RWMutex
	keys map[string]*ecdsa.PublicKey
}

// Set adds (or replaces) the key named arn.
func (p *PublicKeys) Set(arn string, key *ecdsa.PublicKey) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.keys == nil {
		p.keys = map[string]*ecdsa.PublicKey{}
	}
	p.keys[arn] = key
}

// Delete removes the key named arn.
func (p *PublicKeys) Delete(arn string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.keys, arn)
}

// ARNs lists the keys' names.
func (p *PublicKeys) ARNs() []string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return slices.Collect(maps.Keys(p.keys))
}

// get returns the key named arn, or nil (also on a nil set).
func (p *PublicKeys) get(arn string) *ecdsa.PublicKey {
	if p == nil {
		return nil
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.keys[arn]
}

// ParsePublicKey reads a PEM "PUBLIC KEY" block (SubjectPublicKeyInfo) that
// must hold an ECDSA P-384 key, the only kind that verifies ES384 tokens,
// and returns the key and its DER encoding. Its errors say what is wrong.
func ParsePublicKey(material string) (*ecdsa.PublicKey, []byte, error) {
	blk, _ := pem.Decode([]byte(strings.TrimSpace(material)))
	if blk == nil || blk.Type != "PUBLIC KEY" {
		return nil, nil, errors.New(`not a PEM "PUBLIC KEY" block`)
	}
	key, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("not a valid public key: %w", err)
	}
	ec, ok := key.(*ecdsa.PublicKey)
	if !ok {
		kind := "an RSA"
		if _, ok := key.(ed25519.PublicKey); ok {
			kind = "an Ed25519"
		} else if _, ok := key.(*ecdh.PublicKey); ok {
			kind = "an X25519"
		}
		return nil, nil, fmt.Errorf("%s key, not an ECDSA P-384 key", kind)
	}
	if ec.Curve != elliptic.P384() {
		return nil, nil, fmt.Errorf("an ECDSA key on curve %s, not P-384 (secp384r1)", ec.Curve.Params().Name)
	}
	return ec, blk.Bytes, nil
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
