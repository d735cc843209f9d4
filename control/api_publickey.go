package control

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"strings"

	"github.com/tessera-media/tessera/control/store"
	"github.com/tessera-media/tessera/control/wire"
	"github.com/tessera-media/tessera/ingest"
)

// Public keys (ImportPublicKey and its siblings): ECDSA P-384 keys whose
// private halves sign participant tokens outside the server. Each imported
// key is stored and put in ingest's key set under its ARN, the kid such a
// token's header names; DeletePublicKey takes it out of the set before it
// answers, so tokens signed with it are refused from then on.

// fingerprint is a key's fingerprint as the API shows it: the MD5 digest of
// its DER SubjectPublicKeyInfo as 16 colon-separated lower-case hex bytes
// (the form of IVS's fingerprints; IVS does not document its digest).
func fingerprint(der []byte) string {
	sum := md5.Sum(der)
	var b strings.Builder
	for i, c := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02x", c)
	}
	return b.String()
}

// importPublicKey stores a P-384 public key and makes ingest accept tokens
// signed with it. The same key imported twice is a ConflictException.
func (s *Server) importPublicKey(ctx context.Context, req *importPublicKeyRequest) (*publicKeyResponse, *wire.Error) {
	key, der, err := ingest.ParsePublicKey(req.PublicKeyMaterial)
	if err != nil {
		return nil, wire.ValidationError("publicKeyMaterial: " + err.Error() + "; participant tokens are signed with ES384, so the key must be an ECDSA P-384 (secp384r1) public key in PEM (-----BEGIN PUBLIC KEY-----)")
	}
	fp := fingerprint(der)
	s.keysMu.Lock()
	defer s.keysMu.Unlock()
	stored, err := s.publicKeys(ctx)
	if err != nil {
		return nil, s.internal("loading public keys", err)
	}
	dup := ""
	for _, k := range stored {
		if k.Fingerprint == fp {
			dup = k.ARN
		}
	}
	if dup != "" {
		return nil, wire.Conflict("this public key is already imported: " + dup)
	}
	if len(stored) >= s.cfg.Quotas.PublicKeys {
		return nil, wire.ServiceQuotaExceeded(fmt.Sprintf("at most %d public keys", s.cfg.Quotas.PublicKeys))
	}
	k := PublicKey{ARN: s.arn("public-key", newID()), Name: req.Name, PublicKeyMaterial: req.PublicKeyMaterial,
		Fingerprint: fp, Tags: nonNil(req.Tags)}
	if e := s.putDoc(ctx, store.KindPublicKey, k.ARN, "", k.Name, "", k, k.Tags); e != nil {
		return nil, e
	}
	s.cfg.Ingest.PublicKeys().Set(k.ARN, key)
	return &publicKeyResponse{PublicKey: k}, nil
}

func (s *Server) getPublicKey(ctx context.Context, req *arnRequest) (*publicKeyResponse, *wire.Error) {
	var k PublicKey
	if _, e := s.getDoc(ctx, store.KindPublicKey, req.ARN, &k); e != nil {
		return nil, e
	}
	k.Tags = s.tags(ctx, k.ARN)
	return &publicKeyResponse{PublicKey: k}, nil
}

func (s *Server) listPublicKeys(ctx context.Context, req *listRequest) (*listPublicKeysResponse, *wire.Error) {
	keys, next, e := list(ctx, s, store.ListQuery{Kind: store.KindPublicKey}, *req, func(r store.Resource) (PublicKeySummary, bool, *wire.Error) {
		return PublicKeySummary{ARN: r.ARN, Name: r.Name, Tags: s.tags(ctx, r.ARN)}, true, nil
	})
	if e != nil {
		return nil, e
	}
	return &listPublicKeysResponse{PublicKeys: keys, NextToken: next}, nil
}

// deletePublicKey deletes a key; tokens signed with it are refused once it
// has answered (sessions that joined with one stay).
func (s *Server) deletePublicKey(ctx context.Context, req *arnRequest) (*empty, *wire.Error) {
	if _, e := s.getDoc(ctx, store.KindPublicKey, req.ARN, nil); e != nil {
		return nil, e
	}
	if err := s.store.Delete(ctx, req.ARN); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, s.internal("deleting "+req.ARN, err)
	}
	s.cfg.Ingest.PublicKeys().Delete(req.ARN)
	return &empty{}, nil
}

// publicKeys returns every stored public key.
func (s *Server) publicKeys(ctx context.Context) ([]PublicKey, error) {
	return all[PublicKey](ctx, s, store.ListQuery{Kind: store.KindPublicKey})
}

// loadPublicKeys puts every stored public key in ingest's key set.
func (s *Server) loadPublicKeys(ctx context.Context) error {
	keys, err := s.publicKeys(ctx)
	if err != nil {
		return fmt.Errorf("control: loading public keys: %w", err)
	}
	stored := map[string]bool{}
	for _, k := range keys {
		key, _, err := ingest.ParsePublicKey(k.PublicKeyMaterial)
		if err != nil {
			return fmt.Errorf("control: public key %s: %w", k.ARN, err)
		}
		s.cfg.Ingest.PublicKeys().Set(k.ARN, key)
		stored[k.ARN] = true
	}
	for _, arn := range s.cfg.Ingest.PublicKeys().ARNs() {
		if !stored[arn] {
			s.cfg.Ingest.PublicKeys().Delete(arn) // deleted through another node
		}
	}
	return nil
}
