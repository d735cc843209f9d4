package output

import (
	"context"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/tessera-media/tessera/contract"
	"github.com/tessera-media/tessera/internal/testsrv"
)

// One encoder feeds two destinations at once, an RTMP channel (nginx) and
// an HLS recording (folder): both receive the whole stream from one encode.
func TestEncoderFansOut(t *testing.T) {
	const w, h, fps = 320, 180, 30.0
	enc := newTestEncoder(t, w, h, fps)
	srv := testsrv.StartRTMP(t, testsrv.RTMPOptions{})
	states := newStateLog()
	ch := NewChannel(ChannelConfig{Name: "rtmp", Dial: flvDialer(srv.URL("live", "fan"), "", enc.Streams()), OnState: states.on})
	states.await(t, contract.StateActive)
	root := t.TempDir()
	st, _ := NewFolderStorage(root)
	sp, err := NewSpool(t.TempDir(), st, SpoolOptions{Name: "rec"})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	rec, err := NewRecording(RecordingConfig{Name: "s3", Spool: sp, WorkDir: filepath.Join(t.TempDir(), "rec"), Bucket: "b", Prefix: "p/c/d/composite", Streams: enc.Streams(), KeyframeInterval: enc.VideoConfig().KeyframeInterval})
	if err != nil {
		t.Fatal(err)
	}
	enc.Attach(ch)
	enc.Attach(rec)

	feed(t, enc, w, h, fps, 4*time.Second)
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := ch.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := rec.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if ch.Dropped() != 0 || rec.Dropped() != 0 {
		t.Errorf("dropped: channel %d, recording %d", ch.Dropped(), rec.Dropped())
	}
	recs := srv.Recordings()
	if len(recs) != 1 {
		t.Fatalf("rtmp recordings %v", recs)
	}
	if p := testsrv.FFprobe(t, recs[0]); math.Abs(p.Format.Duration-4) > 0.2 {
		t.Errorf("rtmp: %.2f s, want 4", p.Format.Duration)
	}
	checkRecording(t, SegmentsMPEGTS, filepath.Join(root, "b"), "p/c/d/composite", 2*time.Second, fps, w, h)
}
