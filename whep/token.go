package whep

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tessera-media/tessera/internal/durable"
)

// Tokens signs and checks viewer tokens with the server's 256-bit key.
// A token is base64url(claims JSON) "." base64url(HMAC-SHA256 of the
// first part).
type Tokens struct{ key []byte }

// ViewerClaims is what a viewer token says.
type ViewerClaims struct {
	Composition string `json:"c"`   // the composition's ARN
	Expires     int64  `json:"exp"` // Unix seconds: the token starts no view after it
	ID          string `json:"id"`  // random: no two tokens are the same
}

// tokenKeySize is the HMAC key's length.
const tokenKeySize = 32

// maxTokenLen bounds what Verify reads.
const maxTokenLen = 1024

// NewTokens returns Tokens with a fresh random key (tests).
func NewTokens() (*Tokens, error) {
	k := make([]byte, tokenKeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("whep: token key: %w", err)
	}
	return &Tokens{key: k}, nil
}

// LoadOrCreateTokens reads the key at path, or creates it there (written
// durably, mode 0600) so that tokens outlive restarts.
func LoadOrCreateTokens(path string) (*Tokens, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		t, err := NewTokens()
		if err != nil {
			return nil, err
		}
		if err := durable.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("whep: token key: %w", err)
		}
		if err := durable.WriteFile(path, t.key, 0o600); err != nil {
			return nil, fmt.Errorf("whep: token key: %w", err)
		}
		return t, nil
	}
	if err != nil {
		return nil, fmt.Errorf("whep: token key: %w", err)
	}
	if len(b) != tokenKeySize {
		return nil, fmt.Errorf("whep: token key %s: %d bytes, want %d", path, len(b), tokenKeySize)
	}
	return &Tokens{key: b}, nil
}

// Sign returns a token for watching composition until expires.
func (t *Tokens) Sign(composition string, expires time.Time) (string, error) {
	id := make([]byte, 12)
	if _, err := rand.Read(id); err != nil {
		return "", err
	}
	b, err := json.Marshal(ViewerClaims{Composition: composition, Expires: expires.Unix(), ID: base64.RawURLEncoding.EncodeToString(id)})
	if err != nil {
		return "", err
	}
	body := base64.RawURLEncoding.EncodeToString(b)
	return body + "." + base64.RawURLEncoding.EncodeToString(t.mac(body)), nil
}

func (t *Tokens) mac(body string) []byte {
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte(body))
	return m.Sum(nil)
}

// Errors of Verify.
var (
	ErrBadToken     = errors.New("not a viewer token of this server")
	ErrTokenExpired = errors.New("the viewer token has expired")
)

// Verify checks token's signature and expiry at now and returns its claims.
func (t *Tokens) Verify(token string, now time.Time) (ViewerClaims, error) {
	var c ViewerClaims
	if len(token) > maxTokenLen {
		return c, ErrBadToken
	}
	body, sig, ok := strings.Cut(token, ".")
	if !ok {
		return c, ErrBadToken
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, t.mac(body)) {
		return c, ErrBadToken
	}
	b, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil || json.Unmarshal(b, &c) != nil || c.Composition == "" {
		return ViewerClaims{}, ErrBadToken
	}
	if now.Unix() >= c.Expires {
		return c, ErrTokenExpired
	}
	return c, nil
}
