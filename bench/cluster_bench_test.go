package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"
	"github.com/pion/webrtc/v4"

	"github.com/tessera-media/tessera/internal/testsrv"
)

// clusterCalls is how many stages (one StartComposition and one WHIP offer
// each) BenchmarkClusterAPI times per setup.
const clusterCalls = 24

// BenchmarkClusterAPI: what placement costs a caller. The same calls on
// one `tessera serve` (SQLite), on one on PostgreSQL 15 (a cluster of
// one), and on three nodes sharing PostgreSQL, each call made through a
// node that does not serve the stage: a WHIP
// offer (from the POST to the 201 answer; in the cluster the first offer
// places the stage, and a 307 sends it to its node) and StartComposition
// (forwarded to the stage's node). p50/p95 per setup, and each over the
// single node's on SQLite.
func BenchmarkClusterAPI(b *testing.B) {
	bin := buildTessera(b)
	results := map[string][4]float64{} // whip p50, p95, start p50, p95 (ms)
	for _, setup := range []string{"single", "single-postgres", "cluster"} {
		b.Run(setup, func(b *testing.B) {
			var nodes []*server
			if setup == "single" {
				nodes = []*server{startServer(b, bin)}
			} else {
				pg := testsrv.StartPostgres(b)
				url, err := pg.CreateDatabase()
				if err != nil {
					b.Fatal(err)
				}
				for range map[string]int{"single-postgres": 1, "cluster": 3}[setup] {
					nodes = append(nodes, startServer(b, bin, "--store", url))
				}
			}
			for range b.N {
				whip, start := clusterRound(b, nodes)
				ms := func(d []time.Duration, p float64) float64 { return percentileMs(slices.Sorted(slices.Values(d)), p) }
				results[setup] = [4]float64{ms(whip, 0.5), ms(whip, 0.95), ms(start, 0.5), ms(start, 0.95)}
				b.ReportMetric(ms(whip, 0.5), "whip-p50-ms")
				b.ReportMetric(ms(whip, 0.95), "whip-p95-ms")
				b.ReportMetric(ms(start, 0.5), "start-p50-ms")
				b.ReportMetric(ms(start, 0.95), "start-p95-ms")
				if single, ok := results["single"]; ok && setup != "single" {
					r := results[setup]
					b.ReportMetric(r[0]/single[0], "whip-p50-x-single")
					b.ReportMetric(r[1]/single[1], "whip-p95-x-single")
					b.ReportMetric(r[2]/single[2], "start-p50-x-single")
					b.ReportMetric(r[3]/single[3], "start-p95-x-single")
				}
			}
		})
	}
}

// clusterRound creates clusterCalls stages and times, for each, a WHIP
// offer and a StartComposition made through a node that does not serve the
// stage (any node when there is one), stopping each composition and
// ending each session after its call.
func clusterRound(b *testing.B, nodes []*server) (whip, start []time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	api := nodes[0].api
	enc, err := api.CreateEncoderConfiguration(ctx, &ivsrealtime.CreateEncoderConfigurationInput{
		Video: &types.Video{Width: aws.Int32(320), Height: aws.Int32(180), Framerate: aws.Float32(15), Bitrate: aws.Int32(300_000)}})
	if err != nil {
		b.Fatal(err)
	}
	storage, err := api.CreateStorageConfiguration(ctx, &ivsrealtime.CreateStorageConfigurationInput{
		S3: &types.S3StorageConfiguration{BucketName: aws.String("bench")}})
	if err != nil {
		b.Fatal(err)
	}
	for i := range clusterCalls {
		via := nodes[i%len(nodes)]
		st, err := via.api.CreateStage(ctx, &ivsrealtime.CreateStageInput{})
		if err != nil {
			b.Fatal(err)
		}
		tok, err := via.api.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{StageArn: st.Stage.Arn})
		if err != nil {
			b.Fatal(err)
		}
		d, session, err := timeOffer(ctx, via.url+"/whip", *tok.ParticipantToken.Token)
		if err != nil {
			b.Fatalf("WHIP offer through %s: %v", via.url, err)
		}
		whip = append(whip, d)

		// Through a node that does not serve the stage.
		for _, n := range nodes {
			if len(nodes) == 1 || !servesStage(ctx, n, *st.Stage.Arn) {
				via = n
				break
			}
		}
		t0 := time.Now()
		comp, err := via.api.StartComposition(ctx, &ivsrealtime.StartCompositionInput{StageArn: st.Stage.Arn,
			Destinations: []types.DestinationConfiguration{{S3: &types.S3DestinationConfiguration{
				StorageConfigurationArn: storage.StorageConfiguration.Arn, EncoderConfigurationArns: []string{*enc.EncoderConfiguration.Arn}}}}})
		start = append(start, time.Since(t0))
		if err != nil {
			b.Fatalf("StartComposition through %s: %v", via.url, err)
		}
		if _, err := via.api.StopComposition(ctx, &ivsrealtime.StopCompositionInput{Arn: comp.Composition.Arn}); err != nil {
			b.Fatal(err)
		}
		session.close()
	}
	return whip, start
}

// servesStage reports whether node n serves the stage
// (tessera_node_stage_served).
func servesStage(ctx context.Context, n *server, stageARN string) bool {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, n.url+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return strings.Contains(string(body), `tessera_node_stage_served{stage="`+stageARN[strings.LastIndexByte(stageARN, '/')+1:]+`"} 1`)
}

// offerSession is a timed WHIP session, ended by close.
type offerSession struct {
	pc       *webrtc.PeerConnection
	location string
	token    string
}

func (s offerSession) close() {
	if s.location != "" {
		req, _ := http.NewRequest(http.MethodDelete, s.location, nil)
		req.Header.Set("Authorization", "Bearer "+s.token)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	_ = s.pc.Close()
}

// timeOffer POSTs a WHIP offer (H.264 video and Opus audio, send only,
// candidates gathered first) with token and returns the time from the POST
// to the 201 answer, following a redirect.
func timeOffer(ctx context.Context, endpoint, token string) (time.Duration, offerSession, error) {
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return 0, offerSession{}, err
	}
	s := offerSession{pc: pc, token: token}
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			s.close()
			return 0, s, err
		}
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		s.close()
		return 0, s, err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		s.close()
		return 0, s, err
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		s.close()
		return 0, s, ctx.Err()
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(pc.LocalDescription().SDP))
	req.Header.Set("Content-Type", "application/sdp")
	req.Header.Set("Authorization", "Bearer "+token)
	t0 := time.Now()
	resp, err := http.DefaultClient.Do(req)
	d := time.Since(t0)
	if err != nil {
		s.close()
		return 0, s, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		s.close()
		return 0, s, fmt.Errorf("%d %s", resp.StatusCode, body)
	}
	loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
	if err == nil {
		s.location = loc.String()
	}
	return d, s, nil
}
