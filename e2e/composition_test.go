package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"

	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/internal/testsrv"
	"github.com/tessera-media/tessera/layout"
)

const (
	gridChannel = "arn:aws:ivs:us-east-1:123456789012:channel/e2eGridChannel"
	pipChannel  = "arn:aws:ivs:us-east-1:123456789012:channel/e2ePipChannel0"
	bucket      = "recordings"
	idleTimeout = 3 * time.Second
)

// canvas is the encoder configuration's size; frameRate its rate.
var (
	canvas    = layout.Size{W: 640, H: 360}
	frameRate = 30
)

// Two Chromium and two Go publishers, each a solid colour, on one stage; a
// grid composition to an rtmps channel and an S3 recording, then a PiP
// composition to a second channel. The channels are read back with FFmpeg
// and the colour at each tile checked against the layout: grid, featured
// after a token exchange, PiP, a participant leaving. When everybody has
// left both compositions stop after the idle timeout and the recording in
// versitygw is complete.
func TestComposition(t *testing.T) {
	// The servers first (versitygw may be built on first use), then the
	// test's own deadline.
	rtmp := testsrv.StartRTMP(t, testsrv.RTMPOptions{})
	s3 := testsrv.StartVersityGW(t, "")
	s3.CreateBucket(bucket)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	page := testsrv.StartWHIPPage(t)
	srv := startServer(t, t.TempDir(),
		[]string{"TESSERA_S3_ACCESS_KEY_ID=" + s3.AccessKey, "TESSERA_S3_SECRET_ACCESS_KEY=" + s3.SecretKey},
		"--s3-endpoint", s3.Endpoint(), "--s3-region", s3.Region, "--ca-file", rtmp.CertFile(),
		"--channel", gridChannel+"="+rtmp.TLSURL("live", "grid"),
		"--channel", pipChannel+"="+rtmp.TLSURL("live", "pip"),
		"--idle-timeout", idleTimeout.String(), "--no-publisher-timeout", "1m")
	api := srv.API

	stage, err := api.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String("e2e")})
	if err != nil {
		t.Fatal(err)
	}
	whip := *stage.Stage.Endpoints.Whip
	token := func(user string, attrs map[string]string) string {
		t.Helper()
		out, err := api.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{
			StageArn: stage.Stage.Arn, UserId: aws.String(user), Attributes: attrs})
		if err != nil {
			t.Fatal(err)
		}
		return *out.ParticipantToken.Token
	}

	// The publishers join in this order (each connected before the next
	// starts), which is the layout's order.
	red, green := newColour("red", 220, 40, 40), newColour("green", 40, 190, 60)
	blue, yellow := newColour("blue", 40, 60, 230), newColour("yellow", 230, 210, 40)
	palette := []colour{red, green, blue, yellow}
	for _, p := range []struct {
		c     colour
		codec string
	}{{red, "vp8"}, {green, "h264"}} {
		page.Publish(t, testsrv.PublishParams{WHIP: whip, Token: token("chromium-"+p.c.name, nil), Codec: p.codec,
			Color: p.c.hex, Width: 320, Height: 180, Audio: true, ID: p.c.name})
		if _, err := page.WaitStatus(ctx, p.c.name, "connected"); err != nil {
			t.Fatal(err)
		}
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	gos := map[string]*publisher.Publisher{}
	for i, p := range []struct {
		c     colour
		codec string
	}{{blue, "h264"}, {yellow, "vp8"}} {
		c := p.c.yuv
		pub, err := publisher.Start(ctx, publisher.Config{WHIP: whip, Token: token("go-"+p.c.name, nil), Name: p.c.name,
			Codec: p.codec, Width: 320, Height: 180, FPS: 30, Color: &c, ToneHz: 330 * float64(i+1), Logger: quiet})
		if err != nil {
			t.Fatalf("publishing %s: %v", p.c.name, err)
		}
		gos[p.c.name] = pub
		t.Cleanup(func() { pub.Close(context.Background()) })
	}

	// The stage's participants as the layout sees them.
	ids := participantIDs(ctx, t, api, *stage.Stage.Arn, 4)
	colours := map[string]colour{}
	var ps []layout.Participant
	for i, c := range palette {
		user := "chromium-" + c.name
		if i >= 2 {
			user = "go-" + c.name
		}
		id := ids[user]
		colours[id] = c
		ps = append(ps, layout.Participant{ID: id, UserID: user, Arrival: uint64(i), Video: layout.Size{W: 320, H: 180}})
	}

	enc, err := api.CreateEncoderConfiguration(ctx, &ivsrealtime.CreateEncoderConfigurationInput{Name: aws.String("e2e"),
		Video: &types.Video{Width: aws.Int32(int32(canvas.W)), Height: aws.Int32(int32(canvas.H)),
			Framerate: aws.Float32(float32(frameRate)), Bitrate: aws.Int32(1_000_000)}})
	if err != nil {
		t.Fatal(err)
	}
	storage, err := api.CreateStorageConfiguration(ctx, &ivsrealtime.CreateStorageConfigurationInput{
		S3: &types.S3StorageConfiguration{BucketName: aws.String(bucket)}})
	if err != nil {
		t.Fatal(err)
	}

	// Grid, to the rtmps channel and the S3 recording.
	gridCfg := layout.Config{Grid: &layout.GridConfig{FeaturedParticipantAttribute: "featured"}}
	grid, err := api.StartComposition(ctx, &ivsrealtime.StartCompositionInput{StageArn: stage.Stage.Arn,
		Layout: &types.LayoutConfiguration{Grid: &types.GridConfiguration{FeaturedParticipantAttribute: aws.String("featured")}},
		Destinations: []types.DestinationConfiguration{
			{Channel: &types.ChannelDestinationConfiguration{ChannelArn: aws.String(gridChannel), EncoderConfigurationArn: enc.EncoderConfiguration.Arn}},
			{S3: &types.S3DestinationConfiguration{StorageConfigurationArn: storage.StorageConfiguration.Arn,
				EncoderConfigurationArns: []string{*enc.EncoderConfiguration.Arn}}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	waitState(ctx, t, api, *grid.Composition.Arn, types.CompositionStateActive)
	gridRead := readRTMP(t, rtmp.URL("live", "grid"), canvas.W, canvas.H)
	waitLayout(t, "grid", gridRead, probes(t, canvas, gridCfg, ps, colours), palette, 30*time.Second)

	// Token exchange: blue becomes the featured participant.
	if err := gos["blue"].ExchangeToken(ctx, token("go-blue", map[string]string{"featured": "true"})); err != nil {
		t.Fatalf("token exchange: %v", err)
	}
	ps[2].Attributes = map[string]string{"featured": "true"}
	waitLayout(t, "featured after the token exchange", gridRead, probes(t, canvas, gridCfg, ps, colours), palette, 15*time.Second)

	// PiP in a second composition on the same stage.
	pipCfg := layout.Config{Pip: &layout.PipConfig{}}
	pip, err := api.StartComposition(ctx, &ivsrealtime.StartCompositionInput{StageArn: stage.Stage.Arn,
		Layout: &types.LayoutConfiguration{Pip: &types.PipConfiguration{}},
		Destinations: []types.DestinationConfiguration{
			{Channel: &types.ChannelDestinationConfiguration{ChannelArn: aws.String(pipChannel), EncoderConfigurationArn: enc.EncoderConfiguration.Arn}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	waitState(ctx, t, api, *pip.Composition.Arn, types.CompositionStateActive)
	pipRead := readRTMP(t, rtmp.URL("live", "pip"), canvas.W, canvas.H)
	waitLayout(t, "pip", pipRead, probes(t, canvas, pipCfg, ps, colours), palette, 30*time.Second)

	// Green leaves: both layouts close the gap.
	if _, err := page.Unpublish(green.name); err != nil {
		t.Fatal(err)
	}
	ps = without(ps, ids["chromium-green"])
	waitLayout(t, "featured after green left", gridRead, probes(t, canvas, gridCfg, ps, colours), palette, 15*time.Second)
	waitLayout(t, "pip after green left", pipRead, probes(t, canvas, pipCfg, ps, colours), palette, 15*time.Second)

	m := srv.metrics(t)
	for id, c := range colours {
		who := `participant="` + id + `"`
		if id == ids["chromium-green"] {
			continue // left
		}
		if fps := metricValue(m, "tessera_participant_fps", who); fps < 10 {
			t.Errorf("%s: tessera_participant_fps %v", c.name, fps)
		}
		if n := metricValue(m, "tessera_participant_decode_errors_total", who); n != 0 {
			t.Errorf("%s: tessera_participant_decode_errors_total %v", c.name, n)
		}
	}
	for _, arn := range []string{*grid.Composition.Arn, *pip.Composition.Arn} {
		if v := metricValue(m, "tessera_composition_frames_total", `composition="`+path.Base(arn)+`"`); v < float64(frameRate) {
			t.Errorf("tessera_composition_frames_total of %s = %v, want ≥ %d", path.Base(arn), v, frameRate)
		}
	}

	// Everybody leaves: both compositions stop after the idle timeout.
	if _, err := page.Unpublish(red.name); err != nil {
		t.Fatal(err)
	}
	for _, p := range gos {
		if err := p.Close(ctx); err != nil {
			t.Error(err)
		}
	}
	left := time.Now()
	for _, arn := range []string{*grid.Composition.Arn, *pip.Composition.Arn} {
		c := waitState(ctx, t, api, arn, types.CompositionStateStopped)
		if c.EndTime == nil || c.EndTime.Before(left.Add(idleTimeout-time.Second)) {
			t.Errorf("composition %s ended at %v, less than the idle timeout (%v) after the last publisher left at %v", path.Base(arn), c.EndTime, idleTimeout, left)
		}
	}

	checkChannelRecording(t, filepath.Join(rtmp.RecordDir(), "live", "grid.flv"))
	g, err := api.GetComposition(ctx, &ivsrealtime.GetCompositionInput{Arn: grid.Composition.Arn})
	if err != nil {
		t.Fatal(err)
	}
	var prefix string
	for _, d := range g.Composition.Destinations {
		if d.Detail != nil && d.Detail.S3 != nil {
			prefix = *d.Detail.S3.RecordingPrefix
		}
		if d.State != types.DestinationStateStopped {
			t.Errorf("destination %s: state %s, want STOPPED", *d.Id, d.State)
		}
	}
	checkS3Recording(t, filepath.Join(s3.Dir(), bucket, prefix))

	if err := srv.stop(t); err != nil {
		t.Errorf("tessera serve exit after SIGTERM: %v", err)
	}
}

// participantIDs waits until n participants publish on the stage and
// returns their ids by user id.
func participantIDs(ctx context.Context, t *testing.T, api *ivsrealtime.Client, stageARN string, n int) map[string]string {
	t.Helper()
	for {
		st, err := api.GetStage(ctx, &ivsrealtime.GetStageInput{Arn: aws.String(stageARN)})
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]string{}
		if st.Stage.ActiveSessionId != nil {
			out, err := api.ListParticipants(ctx, &ivsrealtime.ListParticipantsInput{StageArn: aws.String(stageARN),
				SessionId: st.Stage.ActiveSessionId, FilterByState: types.ParticipantStateConnected}) // one filter per call
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range out.Participants {
				if p.Published {
					ids[aws.ToString(p.UserId)] = *p.ParticipantId
				}
			}
		}
		if len(ids) == n {
			return ids
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%d of %d participants publishing: %v", len(ids), n, ids)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// waitState polls GetComposition until the composition is in state want.
func waitState(ctx context.Context, t *testing.T, api *ivsrealtime.Client, arn string, want types.CompositionState) *types.Composition {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		out, err := api.GetComposition(ctx, &ivsrealtime.GetCompositionInput{Arn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		c := out.Composition
		if c.State == want {
			return c
		}
		if c.State == types.CompositionStateFailed {
			t.Fatalf("composition %s FAILED (waiting for %s)", path.Base(arn), want)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("composition %s is %s, waited for %s", path.Base(arn), c.State, want)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// metricValue returns the value of the series of name whose labels
// contain label, or -1.
func metricValue(text, name, label string) float64 {
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") || !strings.Contains(line, label) {
			continue
		}
		if v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64); err == nil {
			return v
		}
	}
	return -1
}

// checkChannelRecording checks what nginx recorded of the channel: the
// encoder configuration's size and frame rate, and AAC audio.
func checkChannelRecording(t *testing.T, flv string) {
	t.Helper()
	p := testsrv.FFprobe(t, flv)
	v, ok := p.Stream("video")
	if !ok || v.CodecName != "h264" || v.Width != canvas.W || v.Height != canvas.H {
		t.Errorf("channel video: %+v, want h264 %dx%d", v, canvas.W, canvas.H)
	}
	a, ok := p.Stream("audio")
	if !ok || a.CodecName != "aac" || a.SampleRate != 48000 || a.Channels != 2 {
		t.Errorf("channel audio: %+v, want AAC 48 kHz stereo", a)
	}
	pts := packetTimes(t, flv)
	if len(pts) < 5*frameRate {
		t.Fatalf("channel: %d video packets, want several seconds", len(pts))
	}
	steps := make([]float64, 0, len(pts)-1)
	for i := 1; i < len(pts); i++ {
		steps = append(steps, pts[i]-pts[i-1])
	}
	slices.Sort(steps)
	median := steps[len(steps)/2]
	rate := float64(len(pts)-1) / (pts[len(pts)-1] - pts[0])
	t.Logf("channel: %d video frames over %.1f s: %.2f fps, median step %.1f ms", len(pts), pts[len(pts)-1]-pts[0], rate, median*1000)
	// FLV timestamps are whole milliseconds: steps of 33 and 34 ms.
	if want := 1 / float64(frameRate); median < want-0.0015 || median > want+0.0015 {
		t.Errorf("channel: median frame step %.1f ms, want %.1f ms (%d fps)", median*1000, want*1000, frameRate)
	}
	if rate < 0.9*float64(frameRate) || rate > 1.02*float64(frameRate) {
		t.Errorf("channel: %.2f fps on average, want %d", rate, frameRate)
	}
}

// packetTimes lists the video packets' timestamps of a media file, in
// seconds, in order.
func packetTimes(t *testing.T, file string) []float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testsrv.ProbeTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-select_streams", "v:0",
		"-show_entries", "packet=pts_time", "-of", "csv=p=0", file).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", file, err)
	}
	var pts []float64
	for _, f := range strings.Fields(string(out)) {
		if v, err := strconv.ParseFloat(strings.TrimSuffix(f, ","), 64); err == nil {
			pts = append(pts, v)
		}
	}
	slices.Sort(pts)
	return pts
}

// checkS3Recording checks a finished recording as versitygw stored it
// (its posix backend keeps each object as a file): the events, a VOD
// playlist whose every segment decodes. It returns the playlist's
// duration (the sum of its segments').
func checkS3Recording(t *testing.T, dir string) time.Duration {
	t.Helper()
	var ended struct {
		RecordingStatus string `json:"recording_status"`
		Media           struct {
			HLS struct {
				DurationMS int64 `json:"duration_ms"`
				Path       string
				Playlist   string
				Renditions []struct {
					Path     string
					Playlist string
				}
			} `json:"hls"`
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "events", "recording-ended.json"))
	if err != nil {
		t.Fatalf("recording-ended.json: %v", err)
	}
	if err := json.Unmarshal(b, &ended); err != nil {
		t.Fatal(err)
	}
	if ended.RecordingStatus != "RECORDING_ENDED" || ended.Media.HLS.DurationMS < 5000 || len(ended.Media.HLS.Renditions) != 1 {
		t.Fatalf("recording-ended.json: %s", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "events", "recording-started.json")); err != nil {
		t.Error(err)
	}
	hls := filepath.Join(dir, ended.Media.HLS.Path)
	if _, err := os.Stat(filepath.Join(hls, ended.Media.HLS.Playlist)); err != nil {
		t.Error(err)
	}
	r := ended.Media.HLS.Renditions[0]
	rendition := filepath.Join(hls, r.Path)
	pl, err := os.ReadFile(filepath.Join(rendition, r.Playlist))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(pl, []byte("#EXT-X-PLAYLIST-TYPE:VOD")) || !bytes.Contains(pl, []byte("#EXT-X-ENDLIST")) {
		t.Errorf("playlist is not VOD:\n%s", pl)
	}
	var segments []string
	var total float64
	for line := range strings.Lines(string(pl)) {
		line = strings.TrimSpace(line)
		if d, ok := strings.CutPrefix(line, "#EXTINF:"); ok {
			v, err := strconv.ParseFloat(strings.TrimSuffix(d, ","), 64)
			if err != nil {
				t.Fatalf("playlist: %q", line)
			}
			total += v
		}
		if line != "" && !strings.HasPrefix(line, "#") {
			segments = append(segments, line)
		}
	}
	if len(segments) < 3 {
		t.Fatalf("%d segments:\n%s", len(segments), pl)
	}
	for _, s := range segments {
		if err := decodes(filepath.Join(rendition, s)); err != nil {
			t.Errorf("segment %s: %v", s, err)
		}
	}
	t.Logf("recording: %d ms in %d segments (%.3f s listed), every one decodes", ended.Media.HLS.DurationMS, len(segments), total)
	return time.Duration(total * float64(time.Second))
}

// decodes decodes a media file completely with ffmpeg; any error it
// reports fails.
func decodes(file string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stderr bytes.Buffer
	// -enc_time_base -1: frames keep the file's time base. A publisher's
	// video recorded as received has a variable frame rate, which in the
	// default 1/frame-rate time base can put two frames on one tick.
	cmd := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-v", "error", "-xerror", "-i", file, "-enc_time_base", "-1", "-f", "null", "-")
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err == nil && stderr.Len() > 0 {
		err = errors.New("ffmpeg reported errors")
	}
	if err != nil {
		return fmt.Errorf("%w: %s%s", err, stderr.String(), describeMedia(ctx, file))
	}
	return nil
}

// describeMedia is what a failed decode's message carries to be
// understood after the fact: the file's size and ffprobe's view of its
// streams and packets.
func describeMedia(ctx context.Context, file string) string {
	var b strings.Builder
	if fi, err := os.Stat(file); err == nil {
		fmt.Fprintf(&b, "\n%s: %d bytes", filepath.Base(file), fi.Size())
	}
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-show_entries",
		"stream=index,codec_name,codec_tag_string,sample_rate,width,height:packet=stream_index,pts_time,size,flags",
		"-of", "compact", file).CombinedOutput()
	if err != nil {
		fmt.Fprintf(&b, "\nffprobe: %v", err)
	}
	fmt.Fprintf(&b, "\n%s", out)
	return b.String()
}
