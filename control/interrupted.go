package control

import (
	"context"
	"path"
	"time"

	"github.com/tessera-media/tessera/control/store"
)

// finalizeTimeout bounds finalizing one interrupted recording from
// storage (a few reads and writes).
const finalizeTimeout = 2 * time.Minute

// interruptedRecording is a recording of a composition that was running
// when the server stopped.
type interruptedRecording struct {
	composition, destination string
	bucket, prefix           string
	ended                    time.Time
}

// interruptedRecordings lists the recording destinations of the stored
// composition arn, which the server stopped while it ran (ended when the
// server was last alive). Their storage configurations still exist: one a
// running composition uses cannot be deleted.
func (s *Server) interruptedRecordings(ctx context.Context, arn string, ended time.Time) []interruptedRecording {
	var c Composition
	if _, err := s.getDoc(ctx, store.KindComposition, arn, &c); err != nil {
		s.log.Warn("an interrupted composition's recordings: reading it failed", "arn", arn, "err", err)
		return nil
	}
	var out []interruptedRecording
	for _, d := range c.Destinations {
		if d.Configuration.S3 == nil || d.Detail == nil || d.Detail.S3 == nil {
			continue
		}
		var sc StorageConfiguration
		if _, err := s.getDoc(ctx, store.KindStorageConfiguration, d.Configuration.S3.StorageConfigurationARN, &sc); err != nil || sc.S3 == nil {
			s.log.Warn("an interrupted recording: no storage configuration", "arn", arn, "destination", d.ID, "err", err)
			continue
		}
		out = append(out, interruptedRecording{composition: path.Base(arn), destination: d.ID, bucket: sc.S3.BucketName,
			prefix: d.Detail.S3.RecordingPrefix, ended: ended})
	}
	return out
}

// finalizeInterrupted hands the interrupted recordings to
// Config.FinalizeRecordings, one at a time, each attempt bounded; a failed
// one (storage down, say) is logged and tried again, 1 s, 2 s … at most a
// minute apart, until it is done or the server closes.
func (s *Server) finalizeInterrupted(recs []interruptedRecording) {
	defer s.wg.Done()
	for _, r := range recs {
		for wait := time.Second; ; wait = min(2*wait, time.Minute) {
			ctx, cancel := context.WithTimeout(s.ctx, finalizeTimeout)
			err := s.cfg.FinalizeRecordings(ctx, r.composition, r.destination, r.bucket, r.prefix, r.ended)
			cancel()
			if err == nil {
				break
			}
			s.log.Error("finalizing an interrupted recording from storage failed; trying again", "composition", r.composition,
				"destination", r.destination, "bucket", r.bucket, "prefix", r.prefix, "retry_in", wait.String(), "err", err)
			select {
			case <-s.ctx.Done():
				return
			case <-time.After(wait):
			}
		}
	}
}
