package control

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"
	"github.com/aws/smithy-go"

	"github.com/tessera-media/tessera/internal/testsrv"
)

// wantKey checks what ingest's set holds for an ingest configuration.
func wantKey(t *testing.T, env *apiEnv, c *types.IngestConfiguration, stageARN string, insecure bool) {
	t.Helper()
	k, ok := env.ing.IngestKeys().Get(*c.Arn)
	if !ok {
		t.Fatalf("%s is not in ingest's set", *c.Arn)
	}
	if k.StreamKey != *c.StreamKey || k.StageARN != stageARN || k.ParticipantID != *c.ParticipantId ||
		k.UserID != aws.ToString(c.UserId) || len(k.Attributes) != len(c.Attributes) || k.Insecure != insecure {
		t.Errorf("ingest's set has %+v for %+v (stage %q, insecure %v)", k, c, stageARN, insecure)
	}
	for a, v := range c.Attributes {
		if k.Attributes[a] != v {
			t.Errorf("ingest's set has attributes %v, want %v", k.Attributes, c.Attributes)
		}
	}
}

// The ingest configuration operations: shapes, stream keys, refusals, the
// set ingest checks publishers against, paging and filters, tags, the
// quota, DeleteStage and DisconnectParticipant detaching, persistence.
// Every configuration here is INACTIVE: nothing publishes by RTMP.
func TestAPIIngestConfigurations(t *testing.T) {
	dir := t.TempDir()
	rtmpURLs := func(c *Config) {
		c.RTMPURL, c.RTMPSURL = "rtmp://127.0.0.1:1935/app/", "rtmps://127.0.0.1:1936/app/"
		c.Quotas.IngestConfigurations = 5
	}
	env := startAPI(t, dir, rtmpURLs)
	ctx := context.Background()
	c := env.client
	newStage := func() types.Stage {
		t.Helper()
		st, err := c.CreateStage(ctx, &ivsrealtime.CreateStageInput{})
		if err != nil {
			t.Fatal(err)
		}
		return *st.Stage
	}
	stageA, stageB := newStage(), newStage()
	if e := stageA.Endpoints; aws.ToString(e.Rtmp) != "rtmp://127.0.0.1:1935/app/" || aws.ToString(e.Rtmps) != "rtmps://127.0.0.1:1936/app/" {
		t.Errorf("stage endpoints %+v", e)
	}

	// Created: the ARN, stream key and participant id have IVS's shapes,
	// insecureIngest is not echoed, ingest's set has it.
	raw := func(op string, in map[string]any) (int, map[string]any) {
		t.Helper()
		b, _ := json.Marshal(in)
		resp, err := http.DefaultClient.Do(signed(t, env, http.MethodPost, "/"+op, string(b), false))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var out map[string]any
		_ = json.Unmarshal(body, &out)
		return resp.StatusCode, out
	}
	code, created := raw("CreateIngestConfiguration", map[string]any{"ingestProtocol": "RTMPS", "insecureIngest": true,
		"name": "obs-1", "stageArn": *stageA.Arn, "userId": "dave", "attributes": map[string]string{"seat": "1"}, "tags": map[string]string{"team": "a"}})
	cfg, _ := created["ingestConfiguration"].(map[string]any)
	if code != 200 || cfg == nil {
		t.Fatalf("CreateIngestConfiguration: %d %v", code, created)
	}
	if _, ok := cfg["insecureIngest"]; ok {
		t.Errorf("insecureIngest echoed: %v", cfg)
	}
	arn := cfg["arn"].(string)
	g, err := c.GetIngestConfiguration(ctx, &ivsrealtime.GetIngestConfigurationInput{Arn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	ic := g.IngestConfiguration
	id := arnID(arn)
	if !regexp.MustCompile(`^arn:aws:ivs:us-east-1:123456789012:ingest-configuration/[a-zA-Z0-9]{12}$`).MatchString(arn) ||
		!regexp.MustCompile(`^rt_123456789012_us-east-1_`+id+`_[A-Za-z0-9]{32}$`).MatchString(*ic.StreamKey) ||
		!regexp.MustCompile(`^[a-zA-Z0-9]{12}$`).MatchString(*ic.ParticipantId) ||
		*ic.StreamKey != cfg["streamKey"] || *ic.ParticipantId != cfg["participantId"] ||
		*ic.Name != "obs-1" || *ic.StageArn != *stageA.Arn || *ic.UserId != "dave" || ic.Attributes["seat"] != "1" ||
		ic.Tags["team"] != "a" || ic.IngestProtocol != types.IngestProtocolRtmps || ic.State != types.IngestConfigurationStateInactive ||
		ic.RedundantIngest || cfg["redundantIngest"] != false {
		t.Fatalf("ingest configuration %+v", ic)
	}
	wantKey(t, env, ic, *stageA.Arn, true)

	// RTMP needs insecureIngest; redundant ingest, unknown stages and
	// attributes above 1 KB are refused; nothing is created.
	_, err = c.CreateIngestConfiguration(ctx, &ivsrealtime.CreateIngestConfigurationInput{IngestProtocol: types.IngestProtocolRtmp})
	wantErr[*types.ValidationException](t, err, http.StatusBadRequest, "insecureIngest")
	_, err = c.CreateIngestConfiguration(ctx, &ivsrealtime.CreateIngestConfigurationInput{IngestProtocol: types.IngestProtocolRtmps, RedundantIngest: true})
	wantErr[*types.ValidationException](t, err, http.StatusBadRequest, "redundantIngest is not supported")
	// (The model lists no ResourceNotFoundException for Create: the SDK
	// raises it as a generic API error with its code.)
	_, err = c.CreateIngestConfiguration(ctx, &ivsrealtime.CreateIngestConfigurationInput{IngestProtocol: types.IngestProtocolRtmps, StageArn: aws.String(missingARN("stage"))})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ResourceNotFoundException" || !strings.Contains(ae.ErrorMessage(), missingARN("stage")) || status(err) != http.StatusNotFound {
		t.Errorf("an unknown stage: %v, want ResourceNotFoundException (404)", err)
	}
	_, err = c.CreateIngestConfiguration(ctx, &ivsrealtime.CreateIngestConfigurationInput{IngestProtocol: types.IngestProtocolRtmps,
		Attributes: map[string]string{"big": strings.Repeat("x", 1022)}})
	wantErr[*types.ValidationException](t, err, http.StatusBadRequest, "1 KB")
	_, err = c.GetIngestConfiguration(ctx, &ivsrealtime.GetIngestConfigurationInput{Arn: aws.String(missingARN("ingest-configuration"))})
	wantErr[*types.ResourceNotFoundException](t, err, http.StatusNotFound, missingARN("ingest-configuration"))

	// Plain RTMP with insecureIngest; RTMPS, unattached, secure by default.
	create := func(in ivsrealtime.CreateIngestConfigurationInput) *types.IngestConfiguration {
		t.Helper()
		out, err := c.CreateIngestConfiguration(ctx, &in)
		if err != nil {
			t.Fatal(err)
		}
		return out.IngestConfiguration
	}
	plain := create(ivsrealtime.CreateIngestConfigurationInput{IngestProtocol: types.IngestProtocolRtmp, InsecureIngest: true,
		StageArn: stageB.Arn, RedundantIngest: false})
	if plain.IngestProtocol != types.IngestProtocolRtmp || *plain.StageArn != *stageB.Arn || *plain.Name != "" || *plain.UserId != "" ||
		*plain.StreamKey == *ic.StreamKey || *plain.ParticipantId == *ic.ParticipantId {
		t.Errorf("RTMP configuration %+v", plain)
	}
	wantKey(t, env, plain, *stageB.Arn, true)
	loose := create(ivsrealtime.CreateIngestConfigurationInput{IngestProtocol: types.IngestProtocolRtmps})
	if *loose.StageArn != "" || loose.Tags == nil || len(loose.Tags) != 0 {
		t.Errorf("unattached configuration %+v", loose)
	}
	wantKey(t, env, loose, "", false)

	// Pages of one; one filter at a time.
	listed := func(in ivsrealtime.ListIngestConfigurationsInput) []string {
		t.Helper()
		var arns []string
		in.MaxResults = aws.Int32(1)
		for {
			l, err := c.ListIngestConfigurations(ctx, &in)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range l.IngestConfigurations {
				if *s.Arn == arn && (*s.Name != "obs-1" || *s.UserId != "dave" || *s.ParticipantId != *ic.ParticipantId ||
					s.State != types.IngestConfigurationStateInactive || *s.StageArn != *stageA.Arn) {
					t.Errorf("summary %+v", s)
				}
				arns = append(arns, *s.Arn)
			}
			if in.NextToken = l.NextToken; in.NextToken == nil {
				return arns
			}
		}
	}
	if got := listed(ivsrealtime.ListIngestConfigurationsInput{}); strings.Join(got, " ") != arn+" "+*plain.Arn+" "+*loose.Arn {
		t.Errorf("listed %v", got)
	}
	if got := listed(ivsrealtime.ListIngestConfigurationsInput{FilterByStageArn: stageB.Arn}); len(got) != 1 || got[0] != *plain.Arn {
		t.Errorf("stage B's: %v", got)
	}
	if got := listed(ivsrealtime.ListIngestConfigurationsInput{FilterByState: types.IngestConfigurationStateInactive}); len(got) != 3 {
		t.Errorf("INACTIVE: %v", got)
	}
	if got := listed(ivsrealtime.ListIngestConfigurationsInput{FilterByState: types.IngestConfigurationStateActive}); len(got) != 0 {
		t.Errorf("ACTIVE: %v", got)
	}
	_, err = c.ListIngestConfigurations(ctx, &ivsrealtime.ListIngestConfigurationsInput{FilterByStageArn: stageA.Arn, FilterByState: types.IngestConfigurationStateInactive})
	wantErr[*types.ValidationException](t, err, http.StatusBadRequest, "one filter")

	// Update: attach, keep, detach; refusals.
	update := func(in ivsrealtime.UpdateIngestConfigurationInput) *types.IngestConfiguration {
		t.Helper()
		out, err := c.UpdateIngestConfiguration(ctx, &in)
		if err != nil {
			t.Fatal(err)
		}
		return out.IngestConfiguration
	}
	if u := update(ivsrealtime.UpdateIngestConfigurationInput{Arn: loose.Arn, StageArn: stageA.Arn}); *u.StageArn != *stageA.Arn || *u.StreamKey != *loose.StreamKey {
		t.Errorf("attached %+v", u)
	}
	wantKey(t, env, loose, *stageA.Arn, false)
	if u := update(ivsrealtime.UpdateIngestConfigurationInput{Arn: loose.Arn}); *u.StageArn != *stageA.Arn {
		t.Errorf("an update without stageArn moved it: %+v", u)
	}
	if u := update(ivsrealtime.UpdateIngestConfigurationInput{Arn: loose.Arn, StageArn: aws.String("")}); *u.StageArn != "" {
		t.Errorf("detached %+v", u)
	}
	wantKey(t, env, loose, "", false)
	if got := listed(ivsrealtime.ListIngestConfigurationsInput{FilterByStageArn: stageA.Arn}); len(got) != 1 || got[0] != arn {
		t.Errorf("stage A's after the detach: %v", got)
	}
	_, err = c.UpdateIngestConfiguration(ctx, &ivsrealtime.UpdateIngestConfigurationInput{Arn: loose.Arn, StageArn: aws.String(missingARN("stage"))})
	wantErr[*types.ResourceNotFoundException](t, err, http.StatusNotFound, missingARN("stage"))
	_, err = c.UpdateIngestConfiguration(ctx, &ivsrealtime.UpdateIngestConfigurationInput{Arn: loose.Arn, RedundantIngest: true})
	wantErr[*types.ValidationException](t, err, http.StatusBadRequest, "redundantIngest is not supported")
	_, err = c.UpdateIngestConfiguration(ctx, &ivsrealtime.UpdateIngestConfigurationInput{Arn: aws.String(missingARN("ingest-configuration"))})
	wantErr[*types.ResourceNotFoundException](t, err, http.StatusNotFound, missingARN("ingest-configuration"))

	// Tags, as on any resource.
	if _, err := c.TagResource(ctx, &ivsrealtime.TagResourceInput{ResourceArn: loose.Arn, Tags: map[string]string{"env": "test"}}); err != nil {
		t.Fatal(err)
	}
	if tl, err := c.ListTagsForResource(ctx, &ivsrealtime.ListTagsForResourceInput{ResourceArn: loose.Arn}); err != nil || tl.Tags["env"] != "test" {
		t.Errorf("ListTagsForResource: %v %v", err, tl)
	}
	if g, _ := c.GetIngestConfiguration(ctx, &ivsrealtime.GetIngestConfigurationInput{Arn: loose.Arn}); g.IngestConfiguration.Tags["env"] != "test" {
		t.Errorf("tags not shown: %+v", g.IngestConfiguration)
	}
	if _, err := c.UntagResource(ctx, &ivsrealtime.UntagResourceInput{ResourceArn: loose.Arn, TagKeys: []string{"env"}}); err != nil {
		t.Fatal(err)
	}
	if tl, _ := c.ListTagsForResource(ctx, &ivsrealtime.ListTagsForResourceInput{ResourceArn: loose.Arn}); len(tl.Tags) != 0 {
		t.Errorf("tags after UntagResource: %v", tl.Tags)
	}

	// The quota (5 here).
	spare := create(ivsrealtime.CreateIngestConfigurationInput{IngestProtocol: types.IngestProtocolRtmps})
	create(ivsrealtime.CreateIngestConfigurationInput{IngestProtocol: types.IngestProtocolRtmps})
	_, err = c.CreateIngestConfiguration(ctx, &ivsrealtime.CreateIngestConfigurationInput{IngestProtocol: types.IngestProtocolRtmps})
	wantErr[*types.ServiceQuotaExceededException](t, err, http.StatusPaymentRequired, "at most 5 ingest configurations")

	// Delete, with and without force (nothing publishes).
	if _, err := c.DeleteIngestConfiguration(ctx, &ivsrealtime.DeleteIngestConfigurationInput{Arn: spare.Arn}); err != nil {
		t.Fatal(err)
	}
	if _, ok := env.ing.IngestKeys().Get(*spare.Arn); ok {
		t.Error("a deleted configuration is still in ingest's set")
	}
	_, err = c.GetIngestConfiguration(ctx, &ivsrealtime.GetIngestConfigurationInput{Arn: spare.Arn})
	wantErr[*types.ResourceNotFoundException](t, err, http.StatusNotFound, *spare.Arn)
	_, err = c.DeleteIngestConfiguration(ctx, &ivsrealtime.DeleteIngestConfigurationInput{Arn: spare.Arn})
	wantErr[*types.ResourceNotFoundException](t, err, http.StatusNotFound, *spare.Arn)
	if _, err := c.DeleteIngestConfiguration(ctx, &ivsrealtime.DeleteIngestConfigurationInput{Arn: loose.Arn, Force: true}); err != nil {
		t.Fatal(err)
	}
	if _, ok := env.ing.IngestKeys().Get(*loose.Arn); ok {
		t.Error("a configuration deleted with force is still in ingest's set")
	}

	// DisconnectParticipant of a configuration's participant detaches it;
	// DeleteStage detaches its stage's.
	if _, err := c.DisconnectParticipant(ctx, &ivsrealtime.DisconnectParticipantInput{StageArn: stageB.Arn, ParticipantId: plain.ParticipantId}); err != nil {
		t.Fatal(err)
	}
	if g, _ := c.GetIngestConfiguration(ctx, &ivsrealtime.GetIngestConfigurationInput{Arn: plain.Arn}); *g.IngestConfiguration.StageArn != "" {
		t.Errorf("after DisconnectParticipant: %+v", g.IngestConfiguration)
	}
	wantKey(t, env, plain, "", true)
	if _, err := c.DeleteStage(ctx, &ivsrealtime.DeleteStageInput{Arn: stageA.Arn}); err != nil {
		t.Fatal(err)
	}
	if g, _ := c.GetIngestConfiguration(ctx, &ivsrealtime.GetIngestConfigurationInput{Arn: ic.Arn}); *g.IngestConfiguration.StageArn != "" {
		t.Errorf("after DeleteStage: %+v", g.IngestConfiguration)
	}
	wantKey(t, env, ic, "", true)

	// Kept across a restart, in the store and in ingest's new set; one left
	// attached to a stage that is gone (as a crash in DeleteStage would
	// leave it) is detached.
	if u := update(ivsrealtime.UpdateIngestConfigurationInput{Arn: plain.Arn, StageArn: stageB.Arn}); *u.StageArn != *stageB.Arn {
		t.Fatalf("attached %+v", u)
	}
	if err := env.st.Delete(ctx, *stageB.Arn); err != nil {
		t.Fatal(err)
	}
	env.close()
	env = startAPI(t, dir, nil)
	c = env.client
	g, err = c.GetIngestConfiguration(ctx, &ivsrealtime.GetIngestConfigurationInput{Arn: aws.String(arn)})
	if err != nil || *g.IngestConfiguration.StreamKey != *ic.StreamKey || g.IngestConfiguration.Attributes["seat"] != "1" {
		t.Fatalf("after a restart: %v %+v", err, g)
	}
	wantKey(t, env, ic, "", true)
	if g, _ := c.GetIngestConfiguration(ctx, &ivsrealtime.GetIngestConfigurationInput{Arn: plain.Arn}); *g.IngestConfiguration.StageArn != "" {
		t.Errorf("attached to a deleted stage after a restart: %+v", g.IngestConfiguration)
	}
	wantKey(t, env, plain, "", true)

	// Without RTMP URLs configured, stages have no RTMP endpoints.
	stageC := newStage()
	if e := stageC.Endpoints; e.Rtmp != nil || e.Rtmps != nil || aws.ToString(e.Whip) != env.whipURL {
		t.Errorf("stage endpoints without RTMP URLs: %+v", e)
	}
}

// An ingest configuration publishing by RTMP (ffmpeg, into ingest's RTMP
// server) is ACTIVE: listed so, not updated or deleted without force, its
// participant recorded with protocol RTMP and its ARN. DisconnectParticipant,
// DeleteStage and a forced delete each end the publish.
func TestAPIIngestConfigurationActive(t *testing.T) {
	env := startAPI(t, t.TempDir(), nil)
	ctx := context.Background()
	c := env.client
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = env.ing.ServeRTMP(ln, false) }()
	newStage := func() *string {
		t.Helper()
		st, err := c.CreateStage(ctx, &ivsrealtime.CreateStageInput{})
		if err != nil {
			t.Fatal(err)
		}
		return st.Stage.Arn
	}
	stage := newStage()
	out, err := c.CreateIngestConfiguration(ctx, &ivsrealtime.CreateIngestConfigurationInput{IngestProtocol: types.IngestProtocolRtmp,
		InsecureIngest: true, StageArn: stage, UserId: aws.String("obs"), Attributes: map[string]string{"seat": "9"}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := out.IngestConfiguration
	publish := func() <-chan error {
		done := make(chan error, 1)
		go func() {
			done <- testsrv.PushTestPattern("rtmp://"+ln.Addr().String()+"/app/"+*cfg.StreamKey, time.Minute)
		}()
		return done
	}
	get := func() *types.IngestConfiguration {
		t.Helper()
		g, err := c.GetIngestConfiguration(ctx, &ivsrealtime.GetIngestConfigurationInput{Arn: cfg.Arn})
		if err != nil {
			t.Fatal(err)
		}
		return g.IngestConfiguration
	}
	waitState := func(want types.IngestConfigurationState) {
		t.Helper()
		testsrv.WaitFor(t, 20*time.Second, "the ingest configuration "+string(want), func() bool { return get().State == want })
	}
	ended := func(done <-chan error) {
		t.Helper()
		waitState(types.IngestConfigurationStateInactive)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("ffmpeg still publishing")
		}
	}

	done := publish()
	waitState(types.IngestConfigurationStateActive)
	l, err := c.ListIngestConfigurations(ctx, &ivsrealtime.ListIngestConfigurationsInput{FilterByState: types.IngestConfigurationStateActive})
	if err != nil || len(l.IngestConfigurations) != 1 || *l.IngestConfigurations[0].Arn != *cfg.Arn {
		t.Errorf("ACTIVE ones: %v %+v", err, l)
	}
	_, err = c.UpdateIngestConfiguration(ctx, &ivsrealtime.UpdateIngestConfigurationInput{Arn: cfg.Arn, StageArn: aws.String("")})
	wantErr[*types.ConflictException](t, err, http.StatusConflict, "ACTIVE")
	_, err = c.DeleteIngestConfiguration(ctx, &ivsrealtime.DeleteIngestConfigurationInput{Arn: cfg.Arn})
	wantErr[*types.ConflictException](t, err, http.StatusConflict, "force")
	var p *types.Participant
	testsrv.WaitFor(t, 10*time.Second, "the RTMP participant's record", func() bool {
		g, err := c.GetStage(ctx, &ivsrealtime.GetStageInput{Arn: stage})
		if err != nil || g.Stage.ActiveSessionId == nil {
			return false
		}
		got, err := c.GetParticipant(ctx, &ivsrealtime.GetParticipantInput{StageArn: stage, SessionId: g.Stage.ActiveSessionId, ParticipantId: cfg.ParticipantId})
		if err != nil || !got.Participant.Published {
			return false
		}
		p = got.Participant
		return true
	})
	if p.Protocol != types.ParticipantProtocolRtmp || aws.ToString(p.IngestConfigurationArn) != *cfg.Arn ||
		aws.ToString(p.UserId) != "obs" || p.Attributes["seat"] != "9" || p.State != types.ParticipantStateConnected {
		t.Errorf("RTMP participant %+v", p)
	}
	if _, err := c.DisconnectParticipant(ctx, &ivsrealtime.DisconnectParticipantInput{StageArn: stage, ParticipantId: cfg.ParticipantId}); err != nil {
		t.Fatal(err)
	}
	if got := get(); *got.StageArn != "" {
		t.Errorf("after DisconnectParticipant: %+v", got)
	}
	ended(done)

	// Attached again, it publishes again; DeleteStage detaches it.
	if _, err := c.UpdateIngestConfiguration(ctx, &ivsrealtime.UpdateIngestConfigurationInput{Arn: cfg.Arn, StageArn: stage}); err != nil {
		t.Fatal(err)
	}
	done = publish()
	waitState(types.IngestConfigurationStateActive)
	if _, err := c.DeleteStage(ctx, &ivsrealtime.DeleteStageInput{Arn: stage}); err != nil {
		t.Fatal(err)
	}
	if got := get(); *got.StageArn != "" {
		t.Errorf("after DeleteStage: %+v", got)
	}
	ended(done)

	// A forced delete ends the publish.
	if _, err := c.UpdateIngestConfiguration(ctx, &ivsrealtime.UpdateIngestConfigurationInput{Arn: cfg.Arn, StageArn: newStage()}); err != nil {
		t.Fatal(err)
	}
	done = publish()
	waitState(types.IngestConfigurationStateActive)
	if _, err := c.DeleteIngestConfiguration(ctx, &ivsrealtime.DeleteIngestConfigurationInput{Arn: cfg.Arn, Force: true}); err != nil {
		t.Fatal(err)
	}
	testsrv.WaitFor(t, 20*time.Second, "the publish to end", func() bool { return !env.ing.IngestKeys().Live(*cfg.Arn) })
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("ffmpeg still publishing after a forced delete")
	}
	_, err = c.GetIngestConfiguration(ctx, &ivsrealtime.GetIngestConfigurationInput{Arn: cfg.Arn})
	wantErr[*types.ResourceNotFoundException](t, err, http.StatusNotFound, *cfg.Arn)
}
