package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"time"
)

// session is one signed-in browser.
type session struct {
	accessKey string
	csrf      string
	expires   time.Time

	mu sync.Mutex
	// buckets are the buckets of the storage configurations (by id) whose
	// recordings this session listed: the ones it may play from.
	buckets map[string]string
}

// allowBucket lets the session read the bucket of storage configuration id.
func (s *session) allowBucket(id, bucket string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.buckets == nil {
		s.buckets = map[string]string{}
	}
	s.buckets[id] = bucket
}

// bucket returns the bucket of storage configuration id, if the session
// listed its recordings.
func (s *session) bucket(id string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[id]
	return b, ok
}

// validCSRF reports whether token is the session's CSRF token, compared in
// constant time.
func (s *session) validCSRF(token string) bool {
	return subtle.ConstantTimeCompare([]byte(token), []byte(s.csrf)) == 1
}

// sessions holds the open sessions by id, at most max of them.
type sessions struct {
	mu  sync.Mutex
	m   map[string]*session
	ttl time.Duration
	max int
	now func() time.Time
}

// randomToken is 256 random bits, base64url.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// open starts a session for accessKey and returns its id. When all places
// are taken, expired sessions are dropped, then the one that would expire
// first.
func (ss *sessions) open(accessKey string) (string, *session) {
	id := randomToken()
	s := &session{accessKey: accessKey, csrf: randomToken(), expires: ss.now().Add(ss.ttl)}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.m) >= ss.max {
		ss.sweep()
	}
	for len(ss.m) >= ss.max {
		var first string
		for k, v := range ss.m {
			if first == "" || v.expires.Before(ss.m[first].expires) {
				first = k
			}
		}
		delete(ss.m, first)
	}
	ss.m[id] = s
	return id, s
}

// sweep drops expired sessions; ss.mu is held.
func (ss *sessions) sweep() {
	now := ss.now()
	for k, v := range ss.m {
		if !now.Before(v.expires) {
			delete(ss.m, k)
		}
	}
}

// get returns the open session id names, or nil.
func (ss *sessions) get(id string) *session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.m[id]
	if s == nil {
		return nil
	}
	if !ss.now().Before(s.expires) {
		delete(ss.m, id)
		return nil
	}
	return s
}

// close ends the session id names.
func (ss *sessions) close(id string) {
	ss.mu.Lock()
	delete(ss.m, id)
	ss.mu.Unlock()
}
