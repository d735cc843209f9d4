package ingest

import "maps"

// Get returns the configuration arn as it was last set.
func (k *IngestKeys) Get(arn string) (IngestKey, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	c, ok := k.byARN[arn]
	c.Attributes = maps.Clone(c.Attributes)
	return c, ok
}
