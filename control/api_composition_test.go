package control

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"

	"github.com/tessera-media/tessera/ingest"
	"github.com/tessera-media/tessera/internal/testsrv"
)

// fixtures creates a stage, an encoder and a storage configuration.
func fixtures(t *testing.T, c *ivsrealtime.Client) (stage, enc, storage string) {
	t.Helper()
	ctx := context.Background()
	st, err := c.CreateStage(ctx, &ivsrealtime.CreateStageInput{})
	if err != nil {
		t.Fatal(err)
	}
	ec, err := c.CreateEncoderConfiguration(ctx, &ivsrealtime.CreateEncoderConfigurationInput{Video: &types.Video{Width: aws.Int32(640), Height: aws.Int32(360)}})
	if err != nil {
		t.Fatal(err)
	}
	sc, err := c.CreateStorageConfiguration(ctx, &ivsrealtime.CreateStorageConfigurationInput{S3: &types.S3StorageConfiguration{BucketName: aws.String("rec")}})
	if err != nil {
		t.Fatal(err)
	}
	return *st.Stage.Arn, *ec.EncoderConfiguration.Arn, *sc.StorageConfiguration.Arn
}

func TestAPICompositions(t *testing.T) {
	env := startAPI(t, t.TempDir(), func(c *Config) { c.Quotas.CompositionsPerStage = 1 })
	ctx := context.Background()
	c := env.client
	stage, enc, storage := fixtures(t, c)
	dests := []types.DestinationConfiguration{
		{Name: aws.String("live"), Channel: &types.ChannelDestinationConfiguration{ChannelArn: aws.String(testChan), EncoderConfigurationArn: aws.String(enc)}},
		{S3: &types.S3DestinationConfiguration{StorageConfigurationArn: aws.String(storage), EncoderConfigurationArns: []string{enc}}},
	}
	out, err := c.StartComposition(ctx, &ivsrealtime.StartCompositionInput{StageArn: aws.String(stage), Destinations: dests,
		IdempotencyToken: aws.String("tok-1"), Tags: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	comp := out.Composition
	if comp.State != types.CompositionStateStarting || len(comp.Destinations) != 2 || comp.Layout == nil || comp.Layout.Grid == nil ||
		comp.Layout.Grid.GridGap != 2 || comp.Layout.Grid.VideoAspectRatio != types.VideoAspectRatioVideo || comp.Tags["k"] != "v" {
		t.Errorf("composition %+v", comp)
	}
	s3 := comp.Destinations[1]
	if s3.Configuration.S3.RecordingConfiguration == nil || s3.Configuration.S3.RecordingConfiguration.Format != types.RecordingConfigurationFormatHls ||
		*s3.Configuration.S3.RecordingConfiguration.HlsConfiguration.TargetSegmentDurationSeconds != 2 ||
		len(s3.Configuration.S3.ThumbnailConfigurations) != 1 || *s3.Configuration.S3.ThumbnailConfigurations[0].TargetIntervalSeconds != 60 ||
		s3.Configuration.S3.ThumbnailConfigurations[0].Storage[0] != types.ThumbnailStorageTypeSequential {
		t.Errorf("s3 defaults not echoed: %+v", s3.Configuration.S3)
	}
	wantPrefix := arnID(stage) + "/" + arnID(*comp.Arn) + "/" + *s3.Id + "/composite"
	if s3.Detail == nil || *s3.Detail.S3.RecordingPrefix != wantPrefix {
		t.Errorf("recording prefix %+v, want %s", s3.Detail, wantPrefix)
	}
	// The pipeline starts on the composition's own goroutine; ACTIVE says
	// it has.
	active := waitState(t, c, *comp.Arn, types.CompositionStateActive)
	spec := env.pipes.spec(*comp.Arn)
	if len(spec.Destinations) != 2 || spec.Destinations[0].ChannelURL == "" || spec.Destinations[0].Encoder.Width != 640 ||
		spec.Destinations[1].Bucket != "rec" || spec.Destinations[1].TargetSegment != 2*time.Second {
		t.Errorf("pipeline spec %+v", spec)
	}
	if active.Destinations[0].State != types.DestinationStateActive || active.StartTime == nil {
		t.Errorf("active composition %+v", active)
	}

	// Idempotency: the same token and request give the same composition;
	// the same token with another request is a conflict.
	again, err := c.StartComposition(ctx, &ivsrealtime.StartCompositionInput{StageArn: aws.String(stage), Destinations: dests,
		IdempotencyToken: aws.String("tok-1"), Tags: map[string]string{"k": "v"}})
	if err != nil || *again.Composition.Arn != *comp.Arn {
		t.Fatalf("repeated StartComposition: %v, %v", err, again)
	}
	_, err = c.StartComposition(ctx, &ivsrealtime.StartCompositionInput{StageArn: aws.String(stage), Destinations: dests[:1], IdempotencyToken: aws.String("tok-1")})
	wantErr[*types.ConflictException](t, err, 409, "idempotencyToken")
	// Quota: one composition per stage here.
	_, err = c.StartComposition(ctx, &ivsrealtime.StartCompositionInput{StageArn: aws.String(stage), Destinations: dests[:1]})
	wantErr[*types.ServiceQuotaExceededException](t, err, 402, "per stage")

	l, err := c.ListCompositions(ctx, &ivsrealtime.ListCompositionsInput{FilterByStageArn: aws.String(stage)})
	if err != nil || len(l.Compositions) != 1 || *l.Compositions[0].Arn != *comp.Arn || len(l.Compositions[0].Destinations) != 2 {
		t.Errorf("ListCompositions: %v %+v", err, l)
	}
	l, err = c.ListCompositions(ctx, &ivsrealtime.ListCompositionsInput{FilterByEncoderConfigurationArn: aws.String(enc)})
	if err != nil || len(l.Compositions) != 1 {
		t.Errorf("ListCompositions by encoder: %v %+v", err, l)
	}
	if _, err := c.StopComposition(ctx, &ivsrealtime.StopCompositionInput{Arn: comp.Arn}); err != nil {
		t.Fatal(err)
	}
	stopped := waitState(t, c, *comp.Arn, types.CompositionStateStopped)
	if stopped.EndTime == nil || stopped.Destinations[1].State != types.DestinationStateStopped {
		t.Errorf("stopped composition %+v", stopped)
	}
	_, err = c.StopComposition(ctx, &ivsrealtime.StopCompositionInput{Arn: aws.String("arn:aws:ivs:us-east-1:123456789012:composition/AAAAAAAAAAAA")})
	wantErr[*types.ResourceNotFoundException](t, err, 404, "")
}

// Every validation rule of StartComposition (from the model and from the
// rules the model cannot express).
func TestAPIStartCompositionValidation(t *testing.T) {
	env := startAPI(t, t.TempDir(), nil)
	ctx := context.Background()
	c := env.client
	stage, enc, storage := fixtures(t, c)
	ch := func() *types.ChannelDestinationConfiguration {
		return &types.ChannelDestinationConfiguration{ChannelArn: aws.String(testChan)}
	}
	s3 := func(mut func(*types.S3DestinationConfiguration)) *types.S3DestinationConfiguration {
		d := &types.S3DestinationConfiguration{StorageConfigurationArn: aws.String(storage), EncoderConfigurationArns: []string{enc}}
		if mut != nil {
			mut(d)
		}
		return d
	}
	missing := "arn:aws:ivs:us-east-1:123456789012:stage/AAAAAAAAAAAA"
	for _, tc := range []struct {
		name  string
		in    ivsrealtime.StartCompositionInput
		check func(t *testing.T, err error)
	}{
		{"no destinations", ivsrealtime.StartCompositionInput{StageArn: aws.String(stage), Destinations: []types.DestinationConfiguration{}},
			func(t *testing.T, err error) { wantErr[*types.ValidationException](t, err, 400, "destinations") }},
		{"three destinations", ivsrealtime.StartCompositionInput{StageArn: aws.String(stage), Destinations: []types.DestinationConfiguration{{Channel: ch()}, {Channel: ch()}, {S3: s3(nil)}}},
			func(t *testing.T, err error) { wantErr[*types.ValidationException](t, err, 400, "destinations") }},
		{"two channels", ivsrealtime.StartCompositionInput{StageArn: aws.String(stage), Destinations: []types.DestinationConfiguration{{Channel: ch()}, {Channel: ch()}}},
			func(t *testing.T, err error) { wantErr[*types.ValidationException](t, err, 400, "one channel") }},
		{"channel and s3 in one", ivsrealtime.StartCompositionInput{StageArn: aws.String(stage), Destinations: []types.DestinationConfiguration{{Channel: ch(), S3: s3(nil)}}},
			func(t *testing.T, err error) { wantErr[*types.ValidationException](t, err, 400, "exactly one") }},
		{"neither", ivsrealtime.StartCompositionInput{StageArn: aws.String(stage), Destinations: []types.DestinationConfiguration{{Name: aws.String("x")}}},
			func(t *testing.T, err error) { wantErr[*types.ValidationException](t, err, 400, "exactly one") }},
		{"unknown stage", ivsrealtime.StartCompositionInput{StageArn: aws.String(missing), Destinations: []types.DestinationConfiguration{{Channel: ch()}}},
			func(t *testing.T, err error) { wantErr[*types.ResourceNotFoundException](t, err, 404, "") }},
		{"bad stage ARN", ivsrealtime.StartCompositionInput{StageArn: aws.String("stage-1"), Destinations: []types.DestinationConfiguration{{Channel: ch()}}},
			func(t *testing.T, err error) { wantErr[*types.ValidationException](t, err, 400, "stageArn") }},
		{"unknown channel", ivsrealtime.StartCompositionInput{StageArn: aws.String(stage), Destinations: []types.DestinationConfiguration{{Channel: &types.ChannelDestinationConfiguration{ChannelArn: aws.String("arn:aws:ivs:us-east-1:123456789012:channel/Nope12345678")}}}},
			func(t *testing.T, err error) {
				wantErr[*types.ResourceNotFoundException](t, err, 404, "--channel ARN=rtmp[s]://…; it has 1)")
			}},
		{"unknown encoder", ivsrealtime.StartCompositionInput{StageArn: aws.String(stage), Destinations: []types.DestinationConfiguration{{S3: s3(func(d *types.S3DestinationConfiguration) {
			d.EncoderConfigurationArns = []string{"arn:aws:ivs:us-east-1:123456789012:encoder-configuration/AAAAAAAAAAAA"}
		})}}}, func(t *testing.T, err error) { wantErr[*types.ResourceNotFoundException](t, err, 404, "") }},
		{"two encoders on s3", ivsrealtime.StartCompositionInput{StageArn: aws.String(stage), Destinations: []types.DestinationConfiguration{{S3: s3(func(d *types.S3DestinationConfiguration) {
			d.EncoderConfigurationArns = []string{enc, enc}
		})}}}, func(t *testing.T, err error) {
			wantErr[*types.ValidationException](t, err, 400, "encoderConfigurationArns")
		}},
		{"segment 11 s", ivsrealtime.StartCompositionInput{StageArn: aws.String(stage), Destinations: []types.DestinationConfiguration{{S3: s3(func(d *types.S3DestinationConfiguration) {
			d.RecordingConfiguration = &types.RecordingConfiguration{HlsConfiguration: &types.CompositionRecordingHlsConfiguration{TargetSegmentDurationSeconds: aws.Int32(11)}}
		})}}}, func(t *testing.T, err error) {
			wantErr[*types.ValidationException](t, err, 400, "targetSegmentDurationSeconds")
		}},
		{"thumbnail interval 0", ivsrealtime.StartCompositionInput{StageArn: aws.String(stage), Destinations: []types.DestinationConfiguration{{S3: s3(func(d *types.S3DestinationConfiguration) {
			d.ThumbnailConfigurations = []types.CompositionThumbnailConfiguration{{TargetIntervalSeconds: aws.Int32(0)}}
		})}}}, func(t *testing.T, err error) {
			wantErr[*types.ValidationException](t, err, 400, "targetIntervalSeconds")
		}},
		{"thumbnail storage", ivsrealtime.StartCompositionInput{StageArn: aws.String(stage), Destinations: []types.DestinationConfiguration{{S3: s3(func(d *types.S3DestinationConfiguration) {
			d.ThumbnailConfigurations = []types.CompositionThumbnailConfiguration{{Storage: []types.ThumbnailStorageType{"EVERYTHING"}}}
		})}}}, func(t *testing.T, err error) { wantErr[*types.ValidationException](t, err, 400, "storage") }},
		{"grid gap -1", ivsrealtime.StartCompositionInput{StageArn: aws.String(stage), Destinations: []types.DestinationConfiguration{{Channel: ch()}},
			Layout: &types.LayoutConfiguration{Grid: &types.GridConfiguration{GridGap: -1}}},
			func(t *testing.T, err error) { wantErr[*types.ValidationException](t, err, 400, "gridGap") }},
		{"grid and pip", ivsrealtime.StartCompositionInput{StageArn: aws.String(stage), Destinations: []types.DestinationConfiguration{{Channel: ch()}},
			Layout: &types.LayoutConfiguration{Grid: &types.GridConfiguration{}, Pip: &types.PipConfiguration{}}},
			func(t *testing.T, err error) { wantErr[*types.ValidationException](t, err, 400, "") }},
		{"pip width 0", ivsrealtime.StartCompositionInput{StageArn: aws.String(stage), Destinations: []types.DestinationConfiguration{{Channel: ch()}},
			Layout: &types.LayoutConfiguration{Pip: &types.PipConfiguration{PipWidth: aws.Int32(0)}}},
			func(t *testing.T, err error) { wantErr[*types.ValidationException](t, err, 400, "pipWidth") }},
		{"token pattern", ivsrealtime.StartCompositionInput{StageArn: aws.String(stage), Destinations: []types.DestinationConfiguration{{Channel: ch()}}, IdempotencyToken: aws.String("bad token")},
			func(t *testing.T, err error) { wantErr[*types.ValidationException](t, err, 400, "idempotencyToken") }},
		{"51 tags", ivsrealtime.StartCompositionInput{StageArn: aws.String(stage), Destinations: []types.DestinationConfiguration{{Channel: ch()}}, Tags: manyTags(51)},
			func(t *testing.T, err error) { wantErr[*types.ValidationException](t, err, 400, "tags") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.StartComposition(ctx, &tc.in)
			tc.check(t, err)
		})
	}
	if l, _ := c.ListCompositions(ctx, &ivsrealtime.ListCompositionsInput{}); len(l.Compositions) != 0 {
		t.Errorf("a refused request created %d compositions", len(l.Compositions))
	}
}

func manyTags(n int) map[string]string {
	m := map[string]string{}
	for i := range n {
		m["k"+strings.Repeat("x", i)] = "v"
	}
	return m
}

func TestAPITags(t *testing.T) {
	env := startAPI(t, t.TempDir(), nil)
	ctx := context.Background()
	c := env.client
	stage, _, _ := fixtures(t, c)
	if _, err := c.TagResource(ctx, &ivsrealtime.TagResourceInput{ResourceArn: aws.String(stage), Tags: map[string]string{"a": "1", "b": "2"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(ctx, &ivsrealtime.UntagResourceInput{ResourceArn: aws.String(stage), TagKeys: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	l, err := c.ListTagsForResource(ctx, &ivsrealtime.ListTagsForResourceInput{ResourceArn: aws.String(stage)})
	if err != nil || len(l.Tags) != 1 || l.Tags["b"] != "2" {
		t.Fatalf("tags %v, %v", l, err)
	}
	_, err = c.TagResource(ctx, &ivsrealtime.TagResourceInput{ResourceArn: aws.String("arn:aws:ivs:us-east-1:123456789012:stage/AAAAAAAAAAAA"), Tags: map[string]string{"a": "1"}})
	wantErr[*types.ResourceNotFoundException](t, err, 404, "")
	_, err = c.TagResource(ctx, &ivsrealtime.TagResourceInput{ResourceArn: aws.String(stage), Tags: manyTags(50)})
	wantErr[*types.ValidationException](t, err, 400, "50")
}

// Requests that are not signed right are refused with AWS's error types.
func TestAPIAuth(t *testing.T) {
	env := startAPI(t, t.TempDir(), nil)
	ctx := context.Background()
	_, err := newClient(env.url, testKeyID, "wrong-secret").ListStages(ctx, &ivsrealtime.ListStagesInput{})
	assertAPIError(t, err, 403, "InvalidSignatureException")
	_, err = newClient(env.url, "AKIAUNKNOWN000000000", testSecret).ListStages(ctx, &ivsrealtime.ListStagesInput{})
	assertAPIError(t, err, 403, "UnrecognizedClientException")
	// A clock 20 minutes off: a request signed with the SDK's signer at
	// that time.
	req, _ := http.NewRequest(http.MethodPost, env.url+"/ListStages", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256([]byte("{}"))
	creds := aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "ivs", "us-east-1", time.Now().Add(-20*time.Minute)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || resp.Header.Get("X-Amzn-Errortype") != "InvalidSignatureException" || !strings.Contains(string(msg), "Signature expired") {
		t.Errorf("skewed clock: %d %s %s", resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"), msg)
	}
	// Unsigned.
	resp, err = http.Post(env.url+"/ListStages", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 || resp.Header.Get("X-Amzn-Errortype") != "MissingAuthenticationTokenException" {
		t.Errorf("unsigned: %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"))
	}
	// A tampered body: sign one request, send another body.
	tampered := ivsrealtime.New(ivsrealtime.Options{Region: "us-east-1", BaseEndpoint: aws.String(env.url),
		Credentials: env.client.Options().Credentials, RetryMaxAttempts: 1,
		HTTPClient: &http.Client{Transport: tamper{http.DefaultTransport}}})
	_, err = tampered.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String("honest")})
	assertAPIError(t, err, 403, "InvalidSignatureException")
	if l, _ := env.client.ListStages(ctx, &ivsrealtime.ListStagesInput{}); len(l.Stages) != 0 {
		t.Error("a refused request created a stage")
	}
}

// tamper rewrites request bodies after signing.
type tamper struct{ rt http.RoundTripper }

func (t tamper) RoundTrip(r *http.Request) (*http.Response, error) {
	body := []byte(`{"name":"evil"}`)
	r = r.Clone(r.Context())
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	return t.rt.RoundTrip(r)
}

func assertAPIError(t *testing.T, err error, code int, typ string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want %s", typ)
	}
	if status(err) != code || !strings.Contains(err.Error(), typ) {
		t.Errorf("error %v (status %d), want %d %s", err, status(err), code, typ)
	}
}

// Resources survive a restart; a composition that was running is FAILED.
func TestAPIRestart(t *testing.T) {
	dir := t.TempDir()
	env := startAPI(t, dir, nil)
	ctx := context.Background()
	stage, enc, storage := fixtures(t, env.client)
	if _, err := env.client.TagResource(ctx, &ivsrealtime.TagResourceInput{ResourceArn: aws.String(stage), Tags: map[string]string{"keep": "me"}}); err != nil {
		t.Fatal(err)
	}
	comp, err := env.client.StartComposition(ctx, &ivsrealtime.StartCompositionInput{StageArn: aws.String(stage),
		Destinations: []types.DestinationConfiguration{{Channel: &types.ChannelDestinationConfiguration{ChannelArn: aws.String(testChan)}}}})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, env.client, *comp.Composition.Arn, types.CompositionStateActive)
	tok, err := env.client.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{StageArn: aws.String(stage)})
	if err != nil {
		t.Fatal(err)
	}
	// Simulate a crash: the store is closed without stopping compositions.
	env.srv.cancel()
	_ = env.st.Close()

	env2 := startAPI(t, dir, nil)
	c := env2.client
	if g, err := c.GetStage(ctx, &ivsrealtime.GetStageInput{Arn: aws.String(stage)}); err != nil || g.Stage.Tags["keep"] != "me" {
		t.Errorf("stage after restart: %v %+v", err, g)
	}
	if _, err := c.GetEncoderConfiguration(ctx, &ivsrealtime.GetEncoderConfigurationInput{Arn: aws.String(enc)}); err != nil {
		t.Error(err)
	}
	if _, err := c.GetStorageConfiguration(ctx, &ivsrealtime.GetStorageConfigurationInput{Arn: aws.String(storage)}); err != nil {
		t.Error(err)
	}
	g, err := c.GetComposition(ctx, &ivsrealtime.GetCompositionInput{Arn: comp.Composition.Arn})
	if err != nil || g.Composition.State != types.CompositionStateFailed || g.Composition.EndTime == nil {
		t.Errorf("running composition after restart: %v %+v", err, g)
	}
	// The stage is open for publishing again, and the token (same key) is accepted by ingest.
	if env2.ing.Stage(stage) == nil {
		t.Fatal("stage not reopened on ingest")
	}
	if _, err := loadKeyVerify(dir, *tok.ParticipantToken.Token); err != nil {
		t.Errorf("token from before the restart: %v", err)
	}
}

// The AWS CLI drives the API (smoke test).
func TestAWSCLI(t *testing.T) {
	aws, env := testsrv.AWSCLI(t)
	api := startAPI(t, t.TempDir(), nil)
	run := func(args ...string) map[string]any {
		t.Helper()
		cmd := exec.Command(aws, append([]string{"ivs-realtime", "--endpoint-url", api.url, "--region", "us-east-1", "--output", "json"}, args...)...)
		cmd.Env = append(append([]string(nil), env...), "AWS_ACCESS_KEY_ID="+testKeyID, "AWS_SECRET_ACCESS_KEY="+testSecret)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %v: %v\n%s", args, err, out)
		}
		var m map[string]any
		if len(bytes.TrimSpace(out)) > 0 {
			if err := json.Unmarshal(out, &m); err != nil {
				t.Fatalf("aws %v: %v\n%s", args, err, out)
			}
		}
		return m
	}
	created := run("create-stage", "--name", "cli-stage")
	arn := created["stage"].(map[string]any)["arn"].(string)
	listed := run("list-stages")
	if stages := listed["stages"].([]any); len(stages) != 1 || stages[0].(map[string]any)["arn"] != arn {
		t.Errorf("list-stages: %v", listed)
	}
	run("create-encoder-configuration", "--name", "cli", "--video", "width=640,height=360,framerate=30,bitrate=1000000")
	run("delete-stage", "--arn", arn)
	cmd := exec.Command(aws, "ivs-realtime", "--endpoint-url", api.url, "--region", "us-east-1", "get-stage", "--arn", arn)
	cmd.Env = append(append([]string(nil), env...), "AWS_ACCESS_KEY_ID="+testKeyID, "AWS_SECRET_ACCESS_KEY="+testSecret)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "ResourceNotFoundException") {
		t.Errorf("get-stage after delete: %v %s", err, out)
	}
}

func loadKeyVerify(dir, token string) (any, error) {
	key, err := ingest.LoadOrCreateTokenKey(filepath.Join(dir, "token-key.pem"))
	if err != nil {
		return nil, err
	}
	return key.Verify(token, time.Now(), time.Minute)
}
