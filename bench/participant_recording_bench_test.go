package bench

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"
)

// recordedPublishers is how many 720p30 publishers
// BenchmarkParticipantRecording records at once.
const recordedPublishers = 4

// BenchmarkParticipantRecording measures what individual participant
// recording costs on `tessera serve`: four 720p30 publishers (1.5 Mbit/s)
// on a stage without it, then on a stage with it, each measured over
// -pipeline.window; the difference per publisher is
// cpu-s/s-per-recording (the server's CPU per second per recorded
// publisher) and rss-MB-per-recording. H.264 publishers are packaged as
// received; VP8 ones are decoded and encoded to H.264 again.
func BenchmarkParticipantRecording(b *testing.B) {
	bin := buildTessera(b)
	for _, codec := range []string{"h264", "vp8"} {
		b.Run(codec, func(b *testing.B) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			clip := codecClip(b, codec, 1280, 720, 1_500_000)
			s := startServer(b, bin)
			sc, err := s.api.CreateStorageConfiguration(ctx, &ivsrealtime.CreateStorageConfigurationInput{S3: &types.S3StorageConfiguration{BucketName: aws.String("bench")}})
			if err != nil {
				b.Fatal(err)
			}
			window := func(name string, ipr *types.AutoParticipantRecordingConfiguration) window {
				st, err := s.api.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String(name), AutoParticipantRecordingConfiguration: ipr})
				if err != nil {
					b.Fatal(err)
				}
				pubs := s.publish(ctx, *st.Stage.Arn, *st.Stage.Endpoints.Whip, name, recordedPublishers, clip)
				s.waitDecoding(ctx, recordedPublishers, 30)
				time.Sleep(*pipelineWarmup)
				w := s.measure(ctx, *pipelineWindow)
				for _, p := range pubs {
					cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
					_ = p.Close(cctx)
					cancel()
				}
				return w
			}
			var per, rss float64
			n := 0
			for b.Loop() {
				base := window("plain", nil)
				rec := window("recorded", &types.AutoParticipantRecordingConfiguration{StorageConfigurationArn: sc.StorageConfiguration.Arn})
				per += (rec.cores() - base.cores()) / recordedPublishers
				rss += float64(rec.rssMax-base.rssMax) / mib / recordedPublishers
				n++
				b.Logf("%s: %d publishers %.3f cores without recording, %.3f with (RSS %.0f → %.0f MB)", codec, recordedPublishers,
					base.cores(), rec.cores(), float64(base.rssMax)/mib, float64(rec.rssMax)/mib)
			}
			if segs := s.segments(".mp4"); segs < n*recordedPublishers*int(*pipelineWindow/(6*time.Second)) {
				b.Errorf("%d fMP4 files recorded for %d publishers over %d windows of %v", segs, recordedPublishers, n, *pipelineWindow)
			}
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(per/float64(n), "cpu-s/s-per-recording")
			b.ReportMetric(rss/float64(n), "rss-MB-per-recording")
		})
	}
}
