package wire

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"
)

// sdkServer routes with the model and answers the way a handler would: a
// decoded input or a typed error chosen per operation.
type sdkServer struct {
	mu   sync.Mutex
	seen map[string]map[string]any // operation -> decoded input
}

func (s *sdkServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := MustModel()
	op, params, ok := m.Route(r.Method, r.URL.EscapedPath())
	if !ok {
		WriteError(w, UnknownOperation(r.Method, r.URL.EscapedPath()))
		return
	}
	in, e := m.DecodeRequest(op, params, r)
	if e != nil {
		WriteError(w, e)
		return
	}
	s.mu.Lock()
	s.seen[op.Name] = in
	s.mu.Unlock()
	switch op.Name {
	case "GetStage":
		arn := in["arn"].(string)
		if strings.HasSuffix(arn, "/missing") {
			WriteError(w, ResourceNotFound("Stage not found: "+arn))
			return
		}
		WriteJSON(w, 200, map[string]any{"stage": map[string]any{"arn": arn, "name": "studio",
			"endpoints": map[string]any{"whip": "https://127.0.0.1/whip"}}})
	case "DeleteStage":
		WriteError(w, Conflict("Stage has an active composition"))
	case "CreateStage":
		WriteError(w, ServiceQuotaExceeded("Too many stages"))
	case "ListStages":
		WriteError(w, AccessDenied("Not allowed"))
	case "GetComposition":
		WriteError(w, InternalServer("Something broke"))
	case "CreateIngestConfiguration":
		WriteError(w, PendingVerification("Account pending verification"))
	case "ListTagsForResource":
		WriteJSON(w, 200, map[string]any{"tags": map[string]any{"arn": in["resourceArn"]}})
	default:
		WriteJSON(w, op.ResponseCode, map[string]any{})
	}
}

func sdkClient(t *testing.T) (*ivsrealtime.Client, *sdkServer) {
	s := &sdkServer{seen: map[string]map[string]any{}}
	srv := httptest.NewServer(s) // listens on 127.0.0.1
	t.Cleanup(srv.Close)
	cfg := aws.Config{
		Region:      "us-west-2",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
	}
	return ivsrealtime.NewFromConfig(cfg, func(o *ivsrealtime.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
	}), s
}

func status(t *testing.T, err error) int {
	t.Helper()
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("%v: no HTTP response error", err)
	}
	return re.HTTPStatusCode()
}

func TestSDKErrors(t *testing.T) {
	client, _ := sdkClient(t)
	ctx := context.Background()

	// Validation: the SDK checks only presence; the server checks the rest.
	_, err := client.StartComposition(ctx, &ivsrealtime.StartCompositionInput{
		StageArn:     aws.String("stage-1"),
		Destinations: []types.DestinationConfiguration{{Channel: &types.ChannelDestinationConfiguration{ChannelArn: aws.String("x")}}},
		Layout:       &types.LayoutConfiguration{Grid: &types.GridConfiguration{GridGap: -1}},
	})
	var ve *types.ValidationException
	if !errors.As(err, &ve) {
		t.Fatalf("StartComposition: %T %v", err, err)
	}
	want := many(
		viol("stage-1", "stageArn", patARN+"stage/[a-zA-Z0-9-]+"),
		viol("-1", "layout.grid.gridGap", "Member must have value greater than or equal to 0"),
		viol("x", "destinations.1.member.channel.channelArn", patARN+"channel/[a-zA-Z0-9-]+"),
	)
	if aws.ToString(ve.ExceptionMessage) != want || status(t, err) != 400 || ve.ErrorCode() != "ValidationException" {
		t.Errorf("got %d %q\nwant %q", status(t, err), aws.ToString(ve.ExceptionMessage), want)
	}

	_, err = client.GetStage(ctx, &ivsrealtime.GetStageInput{Arn: aws.String("arn:aws:ivs:us-west-2:123456789012:stage/missing")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) || status(t, err) != 404 ||
		aws.ToString(nf.ExceptionMessage) != "Stage not found: arn:aws:ivs:us-west-2:123456789012:stage/missing" {
		t.Errorf("GetStage: %T %v", err, err)
	}

	_, err = client.DeleteStage(ctx, &ivsrealtime.DeleteStageInput{Arn: aws.String(stageARN)})
	var ce *types.ConflictException
	if !errors.As(err, &ce) || status(t, err) != 409 || aws.ToString(ce.ExceptionMessage) != "Stage has an active composition" {
		t.Errorf("DeleteStage: %T %v", err, err)
	}

	_, err = client.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String("studio")})
	var qe *types.ServiceQuotaExceededException
	if !errors.As(err, &qe) || status(t, err) != 402 {
		t.Errorf("CreateStage: %T %v", err, err)
	}

	_, err = client.ListStages(ctx, &ivsrealtime.ListStagesInput{})
	var ae *types.AccessDeniedException
	if !errors.As(err, &ae) || status(t, err) != 403 {
		t.Errorf("ListStages: %T %v", err, err)
	}

	_, err = client.GetComposition(ctx, &ivsrealtime.GetCompositionInput{Arn: aws.String("arn:aws:ivs:us-west-2:123456789012:composition/AbCd")})
	var ie *types.InternalServerException
	if !errors.As(err, &ie) || status(t, err) != 500 {
		t.Errorf("GetComposition: %T %v", err, err)
	}

	_, err = client.CreateIngestConfiguration(ctx, &ivsrealtime.CreateIngestConfigurationInput{IngestProtocol: types.IngestProtocolRtmps})
	var pv *types.PendingVerification
	if !errors.As(err, &pv) || status(t, err) != 403 {
		t.Errorf("CreateIngestConfiguration: %T %v", err, err)
	}

	// A member of the wrong type cannot come from the SDK; an enum value
	// outside the set can.
	_, err = client.CreateEncoderConfiguration(ctx, &ivsrealtime.CreateEncoderConfigurationInput{
		Video: &types.Video{Width: aws.Int32(4096), Framerate: aws.Float32(0.5)},
	})
	if !errors.As(err, &ve) || aws.ToString(ve.ExceptionMessage) != many(
		viol("4096", "video.width", "Member must have value less than or equal to 1920"),
		viol("0.5", "video.framerate", "Member must have value greater than or equal to 1.0")) {
		t.Errorf("CreateEncoderConfiguration: %v %q", err, aws.ToString(ve.ExceptionMessage))
	}
}

func TestSDKRequests(t *testing.T) {
	client, s := sdkClient(t)
	ctx := context.Background()

	out, err := client.GetStage(ctx, &ivsrealtime.GetStageInput{Arn: aws.String(stageARN)})
	if err != nil || aws.ToString(out.Stage.Arn) != stageARN || aws.ToString(out.Stage.Endpoints.Whip) != "https://127.0.0.1/whip" {
		t.Fatalf("GetStage: %v %+v", err, out)
	}

	// The SDK sends every member of a full StartComposition; it decodes as sent.
	_, err = client.StartComposition(ctx, &ivsrealtime.StartCompositionInput{
		StageArn:         aws.String(stageARN),
		IdempotencyToken: aws.String("tok-1"),
		Layout: &types.LayoutConfiguration{
			Grid: &types.GridConfiguration{VideoAspectRatio: types.VideoAspectRatioVideo, GridGap: 2, OmitStoppedVideo: true},
			Pip:  &types.PipConfiguration{PipPosition: types.PipPositionBottomRight, PipWidth: aws.Int32(320), PipBehavior: types.PipBehaviorDynamic},
		},
		Destinations: []types.DestinationConfiguration{
			{Channel: &types.ChannelDestinationConfiguration{ChannelArn: aws.String(channelARN)}},
			{S3: &types.S3DestinationConfiguration{
				StorageConfigurationArn:  aws.String(storageARN),
				EncoderConfigurationArns: []string{encoderARN},
				ThumbnailConfigurations: []types.CompositionThumbnailConfiguration{
					{TargetIntervalSeconds: aws.Int32(30), Storage: []types.ThumbnailStorageType{types.ThumbnailStorageTypeLatest}},
				},
			}},
		},
		Tags: map[string]string{"team": "video"},
	})
	if err != nil {
		t.Fatalf("StartComposition: %v", err)
	}
	in := s.seen["StartComposition"]
	grid := in["layout"].(map[string]any)["grid"].(map[string]any)
	if in["idempotencyToken"] != "tok-1" || grid["gridGap"] != int64(2) || grid["omitStoppedVideo"] != true ||
		len(in["destinations"].([]any)) != 2 {
		t.Errorf("StartComposition decoded as %#v", in)
	}

	// The ARN label is percent-encoded by the SDK and unescaped by Route; a
	// real ARN passes ResourceArn (see PatternOverrides).
	if _, err := client.TagResource(ctx, &ivsrealtime.TagResourceInput{ResourceArn: aws.String(stageARN), Tags: map[string]string{"a": "b"}}); err != nil {
		t.Fatalf("TagResource: %v", err)
	}
	if got := s.seen["TagResource"]; !reflect.DeepEqual(got, map[string]any{"resourceArn": stageARN, "tags": map[string]any{"a": "b"}}) {
		t.Errorf("TagResource decoded as %#v", got)
	}
	if _, err := client.UntagResource(ctx, &ivsrealtime.UntagResourceInput{ResourceArn: aws.String(stageARN), TagKeys: []string{"a", "b c"}}); err != nil {
		t.Fatalf("UntagResource: %v", err)
	}
	if got := s.seen["UntagResource"]; !reflect.DeepEqual(got, map[string]any{"resourceArn": stageARN, "tagKeys": []any{"a", "b c"}}) {
		t.Errorf("UntagResource decoded as %#v", got)
	}
	tags, err := client.ListTagsForResource(ctx, &ivsrealtime.ListTagsForResourceInput{ResourceArn: aws.String(stageARN)})
	if err != nil || tags.Tags["arn"] != stageARN {
		t.Errorf("ListTagsForResource: %v %v", err, tags)
	}
	_, err = client.UntagResource(ctx, &ivsrealtime.UntagResourceInput{ResourceArn: aws.String("arn:aws:s3:::bucket"), TagKeys: []string{"a"}})
	var ve *types.ValidationException
	if !errors.As(err, &ve) || !strings.HasPrefix(aws.ToString(ve.ExceptionMessage), "1 validation error detected: Value 'arn:aws:s3:::bucket' at 'resourceArn'") {
		t.Errorf("UntagResource: %v", err)
	}
}
