package control

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-media/tessera/contract"
	"github.com/tessera-media/tessera/control/store"
	"github.com/tessera-media/tessera/control/wire"
	"github.com/tessera-media/tessera/ingest"
	"github.com/tessera-media/tessera/whep"
)

const (
	testKeyID  = "AKIATESSERATEST00001"
	testSecret = "tessera-test-secret-key-0000000000000000"
	testChan   = "arn:aws:ivs:us-east-1:123456789012:channel/TestChannel1"
)

// fakePipelines is the test stand-in for the worker: every composition's
// pipeline reports ACTIVE at once, and the test can reach the reporters.
type fakePipelines struct {
	mu         sync.Mutex
	reporters  map[string]contract.Reporter
	specs      map[string]contract.CompositionSpec
	recordings []contract.ParticipantRecordingSpec
	recorders  []*fakePipeline // the participant recordings, as recordings
	pipelines  map[string]*fakePipeline
}

// record is the fake ParticipantRecorderFactory: it notes the spec and
// reports the recording ACTIVE.
func (f *fakePipelines) record(ctx context.Context, spec contract.ParticipantRecordingSpec, r contract.Reporter) (contract.ParticipantRecording, error) {
	p := &fakePipeline{r: r}
	f.mu.Lock()
	f.recordings = append(f.recordings, spec)
	f.recorders = append(f.recorders, p)
	f.mu.Unlock()
	r.Destination(spec.ParticipantID, contract.StateActive, "")
	r.Active()
	return p, nil
}

func (f *fakePipelines) start(ctx context.Context, spec contract.CompositionSpec, r contract.Reporter) (contract.Pipeline, error) {
	f.mu.Lock()
	if f.reporters == nil {
		f.reporters, f.specs, f.pipelines = map[string]contract.Reporter{}, map[string]contract.CompositionSpec{}, map[string]*fakePipeline{}
	}
	p := &fakePipeline{r: r}
	f.reporters[spec.ARN], f.specs[spec.ARN], f.pipelines[spec.ARN] = r, spec, p
	f.mu.Unlock()
	for _, d := range spec.Destinations {
		r.Destination(d.ID, contract.StateActive, "")
	}
	r.Active()
	return p, nil
}

// pipeline returns the pipeline of the composition arn.
func (f *fakePipelines) pipeline(arn string) *fakePipeline {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pipelines[arn]
}

func (f *fakePipelines) spec(arn string) contract.CompositionSpec {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.specs[arn]
}

// apiEnv is a control server with its ingest server, store and fake
// pipelines, on loopback, and an SDK client for it.
type apiEnv struct {
	url     string
	client  *ivsrealtime.Client
	srv     *Server
	ing     *ingest.Server
	st      *store.Store
	pipes   *fakePipelines
	whipURL string
	dir     string
	close   func()
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func startAPI(t *testing.T, dir string, mutate func(*Config)) *apiEnv {
	t.Helper()
	ctx := context.Background()
	key, err := ingest.LoadOrCreateTokenKey(filepath.Join(dir, "token-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	ing, err := ingest.New(ingest.Config{Key: key, Loopback: true, LoopbackOnly: true, Registerer: prometheus.NewRegistry(), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, filepath.Join(dir, "tessera.db"))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	hs := httptest.NewServer(mux)
	env := &apiEnv{url: hs.URL, ing: ing, st: st, pipes: &fakePipelines{}, whipURL: hs.URL + "/whip", dir: dir}
	viewers, err := whep.NewTokens()
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Credentials: map[string]string{testKeyID: testSecret}, Store: st, Ingest: ing, TokenKey: key, ViewerTokens: viewers,
		WHIPURL: env.whipURL, Channels: map[string]string{testChan: "rtmp://127.0.0.1:1/live/key"},
		Pipelines: env.pipes.start, ParticipantRecorders: env.pipes.record, Logger: quietLogger(), Registerer: prometheus.NewRegistry(),
		Timeouts: Timeouts{NoPublisher: time.Hour, Idle: time.Hour, Retention: time.Hour}}
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	env.srv = srv
	mux.Handle("/whip", ing.Handler())
	mux.Handle("/whip/", ing.Handler())
	mux.Handle("/", modelChecked(t, srv))
	env.client = newClient(hs.URL, testKeyID, testSecret)
	var once sync.Once
	env.close = func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			if err := srv.Close(ctx); err != nil {
				t.Error(err)
			}
			_ = ing.Close(ctx)
			hs.Close()
			_ = st.Close()
		})
	}
	t.Cleanup(env.close)
	return env
}

// modelChecked serves h and checks every successful response body against
// the model's output shape of its operation (members, JSON types,
// constraints), so that every test through the API also checks that
// responses carry only what the model defines.
func modelChecked(t *testing.T, h http.Handler) http.Handler {
	m := wire.MustModel()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		if rec.Code/100 != 2 {
			return
		}
		op, _, ok := m.Route(r.Method, r.URL.EscapedPath())
		if !ok {
			t.Errorf("%s %s answered %d but routes to no operation", r.Method, r.URL.Path, rec.Code)
			return
		}
		if err := m.ValidateOutput(op, json.RawMessage(rec.Body.Bytes())); err != nil {
			t.Errorf("%s response does not match the model: %v\n%s", op.Name, err, rec.Body.Bytes())
		}
	})
}

func newClient(url, id, secret string) *ivsrealtime.Client {
	return ivsrealtime.New(ivsrealtime.Options{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, ""), RetryMaxAttempts: 1})
}

// status returns the HTTP status of an SDK error.
func status(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// wantErr checks an SDK error's type (via errors.As on target) and status.
func wantErr[T error](t *testing.T, err error, code int, contains string) {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("error %v (%T), want %T", err, err, target)
	}
	if status(err) != code {
		t.Errorf("HTTP status %d, want %d (%v)", status(err), code, err)
	}
	// The Go SDK puts the message in ExceptionMessage (Error() shows the
	// "message" member, which its types never fill).
	msg := ""
	if f := reflect.ValueOf(target).Elem().FieldByName("ExceptionMessage"); f.IsValid() && !f.IsNil() {
		msg = f.Elem().String()
	}
	if contains != "" && !strings.Contains(msg, contains) {
		t.Errorf("exception message %q does not mention %q", msg, contains)
	}
}

func TestAPIStages(t *testing.T) {
	env := startAPI(t, t.TempDir(), nil)
	ctx := context.Background()
	c := env.client
	out, err := c.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String("studio"), Tags: map[string]string{"team": "a"},
		ParticipantTokenConfigurations: []types.ParticipantTokenConfiguration{{UserId: aws.String("alice")}}})
	if err != nil {
		t.Fatal(err)
	}
	st := out.Stage
	if !strings.HasPrefix(*st.Arn, "arn:aws:ivs:us-east-1:123456789012:stage/") || len(arnID(*st.Arn)) != 12 || *st.Name != "studio" ||
		st.Endpoints == nil || *st.Endpoints.Whip != env.whipURL || st.Tags["team"] != "a" {
		t.Errorf("stage %+v", st)
	}
	if len(out.ParticipantTokens) != 1 {
		t.Fatalf("%d tokens", len(out.ParticipantTokens))
	}
	tok := out.ParticipantTokens[0]
	if tok.Duration == nil || *tok.Duration != 720 || len(tok.Capabilities) != 2 || *tok.UserId != "alice" || tok.ExpirationTime == nil || *tok.Token == "" {
		t.Errorf("token defaults %+v", tok)
	}
	// Get, update, list with pagination.
	got, err := c.GetStage(ctx, &ivsrealtime.GetStageInput{Arn: st.Arn})
	if err != nil || *got.Stage.Name != "studio" {
		t.Fatalf("GetStage: %v %+v", err, got)
	}
	up, err := c.UpdateStage(ctx, &ivsrealtime.UpdateStageInput{Arn: st.Arn, Name: aws.String("studio-2")})
	if err != nil || *up.Stage.Name != "studio-2" {
		t.Fatalf("UpdateStage: %v", err)
	}
	for range 4 {
		if _, err := c.CreateStage(ctx, &ivsrealtime.CreateStageInput{}); err != nil {
			t.Fatal(err)
		}
	}
	var all []string
	var next *string
	pages := 0
	for {
		l, err := c.ListStages(ctx, &ivsrealtime.ListStagesInput{MaxResults: aws.Int32(2), NextToken: next})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, s := range l.Stages {
			all = append(all, *s.Arn)
		}
		if l.NextToken == nil {
			break
		}
		next = l.NextToken
	}
	if len(all) != 5 || pages != 3 {
		t.Errorf("listed %d stages in %d pages, want 5 in 3", len(all), pages)
	}
	// Validation from the model; not found.
	_, err = c.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String("bad name!")})
	wantErr[*types.ValidationException](t, err, 400, "name")
	// Token attributes above 1 KB are refused before the stage exists.
	_, err = c.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String("too-big"),
		ParticipantTokenConfigurations: []types.ParticipantTokenConfiguration{{Attributes: map[string]string{"a": strings.Repeat("x", 1024)}}}})
	wantErr[*types.ValidationException](t, err, 400, "1 KB")
	if l, err := c.ListStages(ctx, &ivsrealtime.ListStagesInput{}); err != nil || len(l.Stages) != 5 {
		t.Errorf("after a refused CreateStage: %v, %d stages, want 5", err, len(l.Stages))
	}
	_, err = c.GetStage(ctx, &ivsrealtime.GetStageInput{Arn: aws.String("arn:aws:ivs:us-east-1:123456789012:stage/AAAAAAAAAAAA")})
	wantErr[*types.ResourceNotFoundException](t, err, 404, "")
	_, err = c.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{StageArn: st.Arn, Duration: aws.Int32(20161)})
	wantErr[*types.ValidationException](t, err, 400, "duration")
	// Delete.
	if _, err := c.DeleteStage(ctx, &ivsrealtime.DeleteStageInput{Arn: st.Arn}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetStage(ctx, &ivsrealtime.GetStageInput{Arn: st.Arn})
	wantErr[*types.ResourceNotFoundException](t, err, 404, "")
	if env.ing.Stage(*st.Arn) != nil {
		t.Error("deleted stage still open for publishing")
	}
}

func TestAPIConfigurations(t *testing.T) {
	env := startAPI(t, t.TempDir(), func(c *Config) { c.Quotas.EncoderConfigurations = 2; c.Quotas.StorageConfigurations = 1 })
	ctx := context.Background()
	c := env.client
	ec, err := c.CreateEncoderConfiguration(ctx, &ivsrealtime.CreateEncoderConfigurationInput{Name: aws.String("default")})
	if err != nil {
		t.Fatal(err)
	}
	v := ec.EncoderConfiguration.Video
	if *v.Width != 1280 || *v.Height != 720 || *v.Framerate != 30 || *v.Bitrate != 2500000 {
		t.Errorf("defaults not echoed: %+v", v)
	}
	for _, tc := range []struct {
		name  string
		video types.Video
		msg   string
	}{
		{"width above 1920", types.Video{Width: aws.Int32(1922)}, "width"},
		{"height below 2", types.Video{Height: aws.Int32(1)}, "height"},
		{"odd width", types.Video{Width: aws.Int32(641)}, "even"},
		{"too many pixels", types.Video{Width: aws.Int32(1920), Height: aws.Int32(1920)}, "2073600"},
		{"framerate above 60", types.Video{Framerate: aws.Float32(61)}, "framerate"},
		{"bitrate above 8.5 Mbps", types.Video{Bitrate: aws.Int32(8_500_001)}, "bitrate"},
		{"bitrate zero", types.Video{Bitrate: aws.Int32(0)}, "bitrate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.CreateEncoderConfiguration(ctx, &ivsrealtime.CreateEncoderConfigurationInput{Video: &tc.video})
			wantErr[*types.ValidationException](t, err, 400, tc.msg)
		})
	}
	_, err = c.CreateEncoderConfiguration(ctx, &ivsrealtime.CreateEncoderConfigurationInput{Name: aws.String("x y")})
	wantErr[*types.ValidationException](t, err, 400, "name")
	if _, err := c.CreateEncoderConfiguration(ctx, &ivsrealtime.CreateEncoderConfigurationInput{}); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateEncoderConfiguration(ctx, &ivsrealtime.CreateEncoderConfigurationInput{})
	wantErr[*types.ServiceQuotaExceededException](t, err, 402, "")

	sc, err := c.CreateStorageConfiguration(ctx, &ivsrealtime.CreateStorageConfigurationInput{S3: &types.S3StorageConfiguration{BucketName: aws.String("recordings")}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateStorageConfiguration(ctx, &ivsrealtime.CreateStorageConfigurationInput{S3: &types.S3StorageConfiguration{BucketName: aws.String("Bad_Bucket")}})
	wantErr[*types.ValidationException](t, err, 400, "bucketName")
	_, err = c.CreateStorageConfiguration(ctx, &ivsrealtime.CreateStorageConfigurationInput{S3: &types.S3StorageConfiguration{BucketName: aws.String("more")}})
	wantErr[*types.ServiceQuotaExceededException](t, err, 402, "")

	// In use by a running composition: ConflictException; after it ended: deleted.
	stage, _ := c.CreateStage(ctx, &ivsrealtime.CreateStageInput{})
	comp, err := c.StartComposition(ctx, &ivsrealtime.StartCompositionInput{StageArn: stage.Stage.Arn, Destinations: []types.DestinationConfiguration{
		{S3: &types.S3DestinationConfiguration{StorageConfigurationArn: sc.StorageConfiguration.Arn, EncoderConfigurationArns: []string{*ec.EncoderConfiguration.Arn}}}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteEncoderConfiguration(ctx, &ivsrealtime.DeleteEncoderConfigurationInput{Arn: ec.EncoderConfiguration.Arn})
	wantErr[*types.ConflictException](t, err, 409, "")
	_, err = c.DeleteStorageConfiguration(ctx, &ivsrealtime.DeleteStorageConfigurationInput{Arn: sc.StorageConfiguration.Arn})
	wantErr[*types.ConflictException](t, err, 409, "")
	if _, err := c.StopComposition(ctx, &ivsrealtime.StopCompositionInput{Arn: comp.Composition.Arn}); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, *comp.Composition.Arn, types.CompositionStateStopped)
	if _, err := c.DeleteEncoderConfiguration(ctx, &ivsrealtime.DeleteEncoderConfigurationInput{Arn: ec.EncoderConfiguration.Arn}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetEncoderConfiguration(ctx, &ivsrealtime.GetEncoderConfigurationInput{Arn: ec.EncoderConfiguration.Arn})
	wantErr[*types.ResourceNotFoundException](t, err, 404, "")
	l, err := c.ListStorageConfigurations(ctx, &ivsrealtime.ListStorageConfigurationsInput{})
	if err != nil || len(l.StorageConfigurations) != 1 || *l.StorageConfigurations[0].S3.BucketName != "recordings" {
		t.Errorf("ListStorageConfigurations: %v %+v", err, l)
	}
	le, err := c.ListEncoderConfigurations(ctx, &ivsrealtime.ListEncoderConfigurationsInput{})
	if err != nil || len(le.EncoderConfigurations) != 1 {
		t.Errorf("ListEncoderConfigurations after one delete: %v %+v", err, le)
	}
	if _, err := c.DeleteStorageConfiguration(ctx, &ivsrealtime.DeleteStorageConfigurationInput{Arn: sc.StorageConfiguration.Arn}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetStorageConfiguration(ctx, &ivsrealtime.GetStorageConfigurationInput{Arn: sc.StorageConfiguration.Arn})
	wantErr[*types.ResourceNotFoundException](t, err, 404, "")
}

func waitState(t *testing.T, c *ivsrealtime.Client, arn string, want types.CompositionState) *types.Composition {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		g, err := c.GetComposition(context.Background(), &ivsrealtime.GetCompositionInput{Arn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		if g.Composition.State == want {
			return g.Composition
		}
		if time.Now().After(deadline) {
			t.Fatalf("composition %s, want %s", g.Composition.State, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
