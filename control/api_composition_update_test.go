package control

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"

	"github.com/tessera-media/tessera/contract"
	"github.com/tessera-media/tessera/internal/testsrv"
	"github.com/tessera-media/tessera/layout"
)

// updateComposition sends a signed UpdateComposition request (the SDKs do
// not know the operation) and returns the status, the error type and the
// decoded body.
func updateComposition(t *testing.T, env *apiEnv, body string) (int, string, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(signedRequest(t, env, "/UpdateComposition", body, false))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("UpdateComposition answered %d %s", resp.StatusCode, raw)
	}
	return resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"), m
}

// UpdateComposition: a running composition's layout changes (defaults
// filled in as StartComposition's, stored, shown by GetComposition, given
// to the pipeline); invalid layouts and ARNs are refused with
// ValidationException, an unknown composition with
// ResourceNotFoundException, and a stopped one with ConflictException.
func TestAPIUpdateComposition(t *testing.T) {
	env := startAPI(t, t.TempDir(), nil)
	ctx := context.Background()
	c := env.client
	stage, _, _ := fixtures(t, c)
	out, err := c.StartComposition(ctx, &ivsrealtime.StartCompositionInput{StageArn: aws.String(stage),
		Destinations: []types.DestinationConfiguration{{Channel: &types.ChannelDestinationConfiguration{ChannelArn: aws.String(testChan)}}}})
	if err != nil {
		t.Fatal(err)
	}
	arn := *out.Composition.Arn
	waitState(t, c, arn, types.CompositionStateActive)

	status, typ, body := updateComposition(t, env, `{"arn":"`+arn+`","layout":{"pip":{"pipPosition":"TOP_LEFT","pipWidth":320}}}`)
	if status != 200 {
		t.Fatalf("UpdateComposition: %d %s %v", status, typ, body)
	}
	want := layout.Config{Pip: &layout.PipConfig{PipPosition: layout.TopLeft, PipWidth: aws.Int(320)}}.WithDefaults()
	var got compositionResponse
	b, _ := json.Marshal(body)
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Composition.ARN != arn || got.Composition.State != contract.StateActive || !reflect.DeepEqual(got.Composition.Layout, want) {
		t.Errorf("UpdateComposition answered %s", b)
	}
	// What GetComposition shows is what UpdateComposition answered.
	gc, err := c.GetComposition(ctx, &ivsrealtime.GetCompositionInput{Arn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if l := gc.Composition.Layout; l == nil || l.Grid != nil || l.Pip == nil || l.Pip.PipPosition != types.PipPositionTopLeft ||
		aws.ToInt32(l.Pip.PipWidth) != 320 || l.Pip.PipOffset != 0 || l.Pip.VideoFillMode != types.VideoFillModeCover ||
		l.Pip.PipBehavior != types.PipBehaviorStatic {
		t.Errorf("GetComposition shows the layout %+v", l)
	}
	// An empty layout is the default grid, as in StartComposition.
	if status, typ, body := updateComposition(t, env, `{"arn":"`+arn+`","layout":{}}`); status != 200 ||
		!reflect.DeepEqual(at(body, "composition", "layout"), map[string]any{"grid": map[string]any{"gridGap": 2.0, "omitStoppedVideo": false, "videoAspectRatio": "VIDEO"}}) {
		t.Errorf("UpdateComposition with an empty layout: %d %s %v", status, typ, body)
	}
	p := env.pipes.pipeline(arn)
	p.mu.Lock()
	layouts := p.layouts
	p.mu.Unlock()
	if len(layouts) != 2 || !reflect.DeepEqual(layouts[0], want) || !reflect.DeepEqual(layouts[1], layout.Config{}.WithDefaults()) {
		t.Errorf("the pipeline was given %+v", layouts)
	}

	for _, tc := range []struct {
		name, body, typ, contains string
		status                    int
	}{
		{"grid gap -1", `{"arn":"` + arn + `","layout":{"grid":{"gridGap":-1}}}`, "ValidationException", "gridGap", 400},
		{"grid and pip", `{"arn":"` + arn + `","layout":{"grid":{},"pip":{}}}`, "ValidationException", "", 400},
		{"pip width 0", `{"arn":"` + arn + `","layout":{"pip":{"pipWidth":0}}}`, "ValidationException", "pipWidth", 400},
		{"no layout", `{"arn":"` + arn + `"}`, "ValidationException", "layout", 400},
		{"bad ARN", `{"arn":"composition-1","layout":{}}`, "ValidationException", "arn", 400},
		{"unknown composition", `{"arn":"` + missingARN("composition") + `","layout":{}}`, "ResourceNotFoundException", "", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, typ, body := updateComposition(t, env, tc.body)
			if msg, _ := body["message"].(string); status != tc.status || !strings.HasPrefix(typ, tc.typ) || !strings.Contains(msg, tc.contains) {
				t.Errorf("%d %s %v, want %d %s naming %q", status, typ, body, tc.status, tc.typ, tc.contains)
			}
		})
	}
	p.mu.Lock()
	n := len(p.layouts)
	p.mu.Unlock()
	if n != 2 {
		t.Errorf("refused requests reached the pipeline: %d layouts", n)
	}

	// A stopping or stopped composition's layout stays.
	if _, err := c.StopComposition(ctx, &ivsrealtime.StopCompositionInput{Arn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	status, typ, body = updateComposition(t, env, `{"arn":"`+arn+`","layout":{"pip":{}}}`)
	if msg, _ := body["message"].(string); status != 409 || !strings.HasPrefix(typ, "ConflictException") || !strings.Contains(msg, "STOPP") {
		t.Errorf("UpdateComposition after StopComposition: %d %s %v", status, typ, body)
	}
	waitState(t, c, arn, types.CompositionStateStopped)
	if status, typ, body := updateComposition(t, env, `{"arn":"`+arn+`","layout":{"pip":{}}}`); status != 409 || !strings.Contains(body["message"].(string), "STOPPED") {
		t.Errorf("UpdateComposition of a stopped composition: %d %s %v", status, typ, body)
	}
	if gc, err := c.GetComposition(ctx, &ivsrealtime.GetCompositionInput{Arn: aws.String(arn)}); err != nil || gc.Composition.Layout.Grid == nil {
		t.Errorf("after refused updates: %v %+v", err, gc)
	}
}

// A layout set while the pipeline is starting is given to it once it
// started; one set after the composition ended is refused and saves
// nothing.
func TestSetLayoutWhileStarting(t *testing.T) {
	spec := contract.CompositionSpec{ARN: "arn:aws:ivs:us-east-1:123456789012:composition/c2", ID: "c2", StageARN: lifecycleStage,
		Layout: layout.Config{}.WithDefaults()}
	c := newComposition(spec, nil, Timeouts{}.withDefaults(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	c.events = func(name, destination, reason string) {}
	release := make(chan struct{})
	fake := &fakePipeline{}
	ctx, cancel := context.WithCancel(context.Background())
	go c.run(ctx, func(context.Context, contract.CompositionSpec, contract.Reporter) (contract.Pipeline, error) {
		<-release
		return fake, nil
	})
	pip := layout.Config{Pip: &layout.PipConfig{}}.WithDefaults()
	saved := 0
	save := func() error { saved++; return nil }
	if ok, err := c.setLayout(pip, save); !ok || err != nil || saved != 1 {
		t.Fatalf("setLayout while starting: %v %v, saved %d", ok, err, saved)
	}
	close(release)
	testsrv.WaitFor(t, 10*time.Second, "the pipeline to get the layout", func() bool {
		fake.mu.Lock()
		defer fake.mu.Unlock()
		return len(fake.layouts) == 1 && reflect.DeepEqual(fake.layouts[0], pip)
	})
	cancel()
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		t.Fatal("composition did not end")
	}
	if ok, err := c.setLayout(pip, save); ok || err != nil || saved != 1 {
		t.Errorf("setLayout after the end: %v %v, saved %d", ok, err, saved)
	}
}
