package control

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"

	"github.com/tessera-media/tessera/internal/testsrv"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// Every response, success or error, carries a request id the SDK reads,
// each a fresh UUID, and the request's log line names it.
func TestRequestID(t *testing.T) {
	var logs testsrv.SyncBuffer
	env := startAPI(t, t.TempDir(), func(c *Config) { c.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	ctx := context.Background()
	out, err := env.client.CreateStage(ctx, &ivsrealtime.CreateStageInput{})
	if err != nil {
		t.Fatal(err)
	}
	id1, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
	out2, err := env.client.GetStage(ctx, &ivsrealtime.GetStageInput{Arn: out.Stage.Arn})
	if err != nil {
		t.Fatal(err)
	}
	id2, _ := awsmiddleware.GetRequestIDMetadata(out2.ResultMetadata)
	if !uuidRE.MatchString(id1) || !uuidRE.MatchString(id2) || id1 == id2 {
		t.Errorf("request ids %q, %q: want two distinct UUIDs", id1, id2)
	}
	_, err = env.client.GetStage(ctx, &ivsrealtime.GetStageInput{Arn: aws.String("arn:aws:ivs:us-east-1:123456789012:stage/nothingHere1")})
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || !uuidRE.MatchString(re.ServiceRequestID()) {
		t.Fatalf("error %v: no request id", err)
	}
	if line := "request_id=" + re.ServiceRequestID(); !strings.Contains(logs.String(), line) {
		t.Errorf("no log line with %s:\n%s", line, logs.String())
	}
	bad := newClient(env.url, testKeyID, "wrong-secret")
	_, err = bad.ListStages(ctx, &ivsrealtime.ListStagesInput{})
	if !errors.As(err, &re) || !uuidRE.MatchString(re.ServiceRequestID()) {
		t.Errorf("authentication error %v: no request id", err)
	}
}
