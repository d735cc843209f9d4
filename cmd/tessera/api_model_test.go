package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"

	"github.com/tessera-media/tessera/internal/testsrv"
)

// The AWS CLI, given `tessera api-model`'s output with aws configure
// add-model, calls UpdateComposition on a running server: the
// composition's new layout comes back with its defaults, GetComposition
// (AWS SDK) shows it, and an unknown composition is a
// ResourceNotFoundException.
func TestAPIModelWithAWSCLI(t *testing.T) {
	cli, env := testsrv.AWSCLI(t)
	var doc bytes.Buffer
	if err := apiModel(nil, &doc); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(t.TempDir(), "model.json")
	if err := os.WriteFile(model, doc.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	add := exec.Command(cli, "configure", "add-model", "--service-model", "file://"+model, "--service-name", "ivs-realtime-tessera")
	add.Env = env
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("aws configure add-model: %v\n%s", err, out)
	}

	// A channel nobody listens on: the composition runs, its channel
	// keeps trying to connect.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	const channel = "arn:aws:ivs:us-east-1:123456789012:channel/CliChannel01"
	s, _, err := parseSettings([]string{"--listen", "127.0.0.1:0", "--rtmp-listen", "", "--rtmps-listen", "", "--data", t.TempDir(),
		"--log-level", "error", "--channel", channel + "=rtmp://" + closed + "/live/key"}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- serve(ctx, s, ready) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	var url string
	select {
	case addr := <-ready:
		url = "http://" + addr
	case err := <-done:
		t.Fatal(err)
	case <-time.After(30 * time.Second):
		t.Fatal("server did not start")
	}
	client := ivsrealtime.New(ivsrealtime.Options{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider(DevAccessKeyID, DevSecretAccessKey, "")})
	st, err := client.CreateStage(ctx, &ivsrealtime.CreateStageInput{})
	if err != nil {
		t.Fatal(err)
	}
	sc, err := client.StartComposition(ctx, &ivsrealtime.StartCompositionInput{StageArn: st.Stage.Arn,
		Destinations: []types.DestinationConfiguration{{Channel: &types.ChannelDestinationConfiguration{ChannelArn: aws.String(channel)}}}})
	if err != nil {
		t.Fatal(err)
	}
	arn := *sc.Composition.Arn

	update := func(arn string) ([]byte, error) {
		cmd := exec.Command(cli, "ivs-realtime-tessera", "update-composition", "--endpoint-url", url, "--region", "us-east-1", "--output", "json",
			"--arn", arn, "--layout", `{"pip":{"pipPosition":"TOP_LEFT","pipWidth":320}}`)
		cmd.Env = append(append([]string(nil), env...), "AWS_ACCESS_KEY_ID="+DevAccessKeyID, "AWS_SECRET_ACCESS_KEY="+DevSecretAccessKey)
		return cmd.CombinedOutput()
	}
	out, err := update(arn)
	if err != nil {
		t.Fatalf("aws ivs-realtime-tessera update-composition: %v\n%s", err, out)
	}
	var answer struct {
		Composition struct {
			ARN    string         `json:"arn"`
			Layout map[string]any `json:"layout"`
		} `json:"composition"`
	}
	if err := json.Unmarshal(out, &answer); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	pip, _ := answer.Composition.Layout["pip"].(map[string]any)
	if answer.Composition.ARN != arn || pip["pipPosition"] != "TOP_LEFT" || pip["pipWidth"] != 320.0 || pip["pipBehavior"] != "STATIC" ||
		answer.Composition.Layout["grid"] != nil {
		t.Errorf("update-composition answered %s", out)
	}
	gc, err := client.GetComposition(ctx, &ivsrealtime.GetCompositionInput{Arn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if l := gc.Composition.Layout; l.Grid != nil || l.Pip == nil || l.Pip.PipPosition != types.PipPositionTopLeft {
		t.Errorf("GetComposition shows the layout %+v", l)
	}
	if out, err := update(arn[:strings.LastIndex(arn, "/")+1] + "Missing00000"); err == nil || !strings.Contains(string(out), "ResourceNotFoundException") {
		t.Errorf("update-composition of an unknown composition: %v\n%s", err, out)
	}
}
