package ingest

import (
	"maps"
	"slices"
	"sync"
)

// IngestKey is an ingest configuration as RTMP(S) publishing needs it: a
// publish whose stream key is StreamKey becomes participant ParticipantID
// of the stage StageARN. The control plane keeps the set current
// ([Server.IngestKeys]).
type IngestKey struct {
	ARN       string // the ingest configuration's ARN
	StreamKey string
	// StageARN is the stage the publisher joins; "" leaves the key
	// unusable (a publish with it is refused).
	StageARN      string
	ParticipantID string
	UserID        string
	Attributes    map[string]string
	// Insecure allows plain RTMP; without it only RTMPS is accepted
	// (INVALID_PROTOCOL).
	Insecure bool
}

// IngestKeys is the set of ingest configurations, by ARN and by stream
// key, and which of them are publishing. Set and Delete take effect at
// once: a live publish whose configuration is deleted or no longer names
// its stage has ended (its participant left) when they return.
type IngestKeys struct {
	mu    sync.Mutex
	byARN map[string]IngestKey
	byKey map[string]string              // stream key → ARN
	live  map[string]func(reason string) // ARN → ends the live publish, and waits until it has
}

// Set adds or replaces the configuration k.ARN. A live publish with it
// ends when its stream key or stage changed.
func (k *IngestKeys) Set(c IngestKey) {
	c.Attributes = maps.Clone(c.Attributes)
	k.mu.Lock()
	if k.byARN == nil {
		k.byARN, k.byKey, k.live = map[string]IngestKey{}, map[string]string{}, map[string]func(string){}
	}
	old, had := k.byARN[c.ARN]
	if had {
		delete(k.byKey, old.StreamKey)
	}
	k.byARN[c.ARN] = c
	k.byKey[c.StreamKey] = c.ARN
	end := k.live[c.ARN]
	k.mu.Unlock()
	if had && end != nil && (old.StreamKey != c.StreamKey || old.StageARN != c.StageARN) {
		end("the ingest configuration changed")
	}
}

// Delete removes the configuration arn, ending its live publish.
func (k *IngestKeys) Delete(arn string) {
	k.mu.Lock()
	old, had := k.byARN[arn]
	if had {
		delete(k.byKey, old.StreamKey)
		delete(k.byARN, arn)
	}
	end := k.live[arn]
	k.mu.Unlock()
	if end != nil {
		end("the ingest configuration was deleted")
	}
}

// ARNs lists the configurations' ARNs.
func (k *IngestKeys) ARNs() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Collect(maps.Keys(k.byARN))
}

// Live reports whether the configuration arn is publishing now (the API's
// state ACTIVE).
func (k *IngestKeys) Live(arn string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.live[arn] != nil
}

// Get returns the configuration arn as it was last set.
func (k *IngestKeys) Get(arn string) (IngestKey, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	c, ok := k.byARN[arn]
	c.Attributes = maps.Clone(c.Attributes)
	return c, ok
}

// lookup returns the configuration whose stream key is key.
func (k *IngestKeys) lookup(key string) (IngestKey, bool) {
	k.mu.Lock()
	arn, ok := k.byKey[key]
	k.mu.Unlock()
	if !ok {
		return IngestKey{}, false
	}
	return k.Get(arn)
}

// claim marks arn publishing, with end to stop it; false when it already
// is (a second publish with the same key) or is gone.
func (k *IngestKeys) claim(arn string, end func(reason string)) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.byARN[arn]; !ok || k.live[arn] != nil {
		return false
	}
	k.live[arn] = end
	return true
}

// release marks arn no longer publishing.
func (k *IngestKeys) release(arn string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.live, arn)
}
