package wire

import (
	"fmt"
	"strings"
	"testing"
)

func one(msg string) string { return "1 validation error detected: " + msg }

func many(msgs ...string) string {
	return fmt.Sprintf("%d validation errors detected: %s", len(msgs), strings.Join(msgs, "; "))
}

func viol(value, path, constraint string) string {
	if value == "null" {
		return "Value null at '" + path + "' failed to satisfy constraint: " + constraint
	}
	return "Value '" + value + "' at '" + path + "' failed to satisfy constraint: " + constraint
}

type change struct {
	path  string
	value any
}

// wantRefused applies changes to the input in and checks that op refuses
// it with the ValidationException message want.
func wantRefused(t *testing.T, m *Model, op string, in map[string]any, changes []change, want string) {
	t.Helper()
	for _, ch := range changes {
		set(in, ch.path, ch.value)
	}
	_, e := decode(t, m, op, body(t, in))
	if e == nil {
		t.Fatalf("accepted; want %s", want)
	}
	if e.Status != 400 || e.Type != "ValidationException" || e.Message != want {
		t.Errorf("got  %d %s %s\nwant %s", e.Status, e.Type, e.Message, want)
	}
}

func TestStartCompositionValidation(t *testing.T) {
	m := model(t)
	long := "arn:aws:ivs:us-west-2:123456789012:stage/" + strings.Repeat("a", 90)
	attr129 := strings.Repeat("a", 129)
	channelDest := map[string]any{"channel": map[string]any{"channelArn": channelARN}}
	manyTags := map[string]any{}
	var tagParts []string
	for i := range 51 {
		k := fmt.Sprintf("k%02d", i)
		manyTags[k] = "v"
		tagParts = append(tagParts, k+"=v")
	}
	for _, c := range []struct {
		name    string
		changes []change
		want    string
	}{
		{"required stageArn", []change{{"stageArn", deleted{}}},
			one(viol("null", "stageArn", notNull))},
		{"required both", []change{{"stageArn", nil}, {"destinations", deleted{}}},
			many(viol("null", "stageArn", notNull), viol("null", "destinations", notNull))},
		{"stageArn pattern", []change{{"stageArn", "stage-1"}},
			one(viol("stage-1", "stageArn", patARN+"stage/[a-zA-Z0-9-]+"))},
		{"stageArn max length", []change{{"stageArn", long}},
			one(viol(long, "stageArn", "Member must have length less than or equal to 128"))},
		{"stageArn empty: pattern, then length", []change{{"stageArn", ""}},
			many(viol("", "stageArn", patARN+"stage/[a-zA-Z0-9-]+"),
				viol("", "stageArn", "Member must have length greater than or equal to 1"))},
		{"idempotencyToken min length", []change{{"idempotencyToken", ""}},
			one(viol("", "idempotencyToken", "Member must have length greater than or equal to 1"))},
		{"idempotencyToken max length and pattern", []change{{"idempotencyToken", strings.Repeat("x", 64) + "!"}},
			many(viol(strings.Repeat("x", 64)+"!", "idempotencyToken", patName),
				viol(strings.Repeat("x", 64)+"!", "idempotencyToken", "Member must have length less than or equal to 64"))},
		{"destinations min", []change{{"destinations", []any{}}},
			one(viol("[]", "destinations", "Member must have length greater than or equal to 1"))},
		{"destinations max", []change{{"destinations", []any{channelDest, channelDest, channelDest}}},
			one(viol("[{channel={channelArn="+channelARN+"}}, {channel={channelArn="+channelARN+"}}, {channel={channelArn="+channelARN+"}}]",
				"destinations", "Member must have length less than or equal to 2"))},
		{"null destination", []change{{"destinations.1", nil}},
			one(viol("null", "destinations.2.member", notNull))},
		{"destination name pattern", []change{{"destinations.0.name", "my dest"}},
			one(viol("my dest", "destinations.1.member.name", patName))},
		{"destination name length", []change{{"destinations.0.name", attr129}},
			one(viol(attr129, "destinations.1.member.name", "Member must have length less than or equal to 128"))},
		{"channelArn required", []change{{"destinations.0.channel.channelArn", deleted{}}},
			one(viol("null", "destinations.1.member.channel.channelArn", notNull))},
		{"channelArn pattern", []change{{"destinations.0.channel.channelArn", stageARN}},
			one(viol(stageARN, "destinations.1.member.channel.channelArn", patARN+"channel/[a-zA-Z0-9-]+"))},
		{"channel encoderConfigurationArn pattern", []change{{"destinations.0.channel.encoderConfigurationArn", storageARN}},
			one(viol(storageARN, "destinations.1.member.channel.encoderConfigurationArn", patARN+"encoder-configuration/[a-zA-Z0-9-]+"))},
		{"s3 required members", []change{{"destinations.1.s3", map[string]any{}}},
			many(viol("null", "destinations.2.member.s3.storageConfigurationArn", notNull),
				viol("null", "destinations.2.member.s3.encoderConfigurationArns", notNull))},
		{"s3 storageConfigurationArn pattern", []change{{"destinations.1.s3.storageConfigurationArn", "arn:aws:ivs:us-west-2:123456789012:storage-configuration/"}},
			one(viol("arn:aws:ivs:us-west-2:123456789012:storage-configuration/", "destinations.2.member.s3.storageConfigurationArn", patARN+"storage-configuration/[a-zA-Z0-9-]+"))},
		{"s3 encoderConfigurationArns min", []change{{"destinations.1.s3.encoderConfigurationArns", []any{}}},
			one(viol("[]", "destinations.2.member.s3.encoderConfigurationArns", "Member must have length greater than or equal to 1"))},
		{"s3 encoderConfigurationArns max", []change{{"destinations.1.s3.encoderConfigurationArns", []any{encoderARN, encoderARN}}},
			one(viol("["+encoderARN+", "+encoderARN+"]", "destinations.2.member.s3.encoderConfigurationArns", "Member must have length less than or equal to 1"))},
		{"s3 encoderConfigurationArns member", []change{{"destinations.1.s3.encoderConfigurationArns", []any{"bad"}}},
			one(viol("[bad]", "destinations.2.member.s3.encoderConfigurationArns",
				"Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1, "+
					patARN+"encoder-configuration/[a-zA-Z0-9-]+]"))},
		{"s3 encoderConfigurationArns null member", []change{{"destinations.1.s3.encoderConfigurationArns", []any{nil}}},
			one(viol("[null]", "destinations.2.member.s3.encoderConfigurationArns",
				"Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1, "+
					patARN+"encoder-configuration/[a-zA-Z0-9-]+, Member must not be null]"))},
		{"hls segment duration max", []change{{"destinations.1.s3.recordingConfiguration.hlsConfiguration.targetSegmentDurationSeconds", 11}},
			one(viol("11", "destinations.2.member.s3.recordingConfiguration.hlsConfiguration.targetSegmentDurationSeconds", "Member must have value less than or equal to 10"))},
		{"hls segment duration min", []change{{"destinations.1.s3.recordingConfiguration.hlsConfiguration.targetSegmentDurationSeconds", 1}},
			one(viol("1", "destinations.2.member.s3.recordingConfiguration.hlsConfiguration.targetSegmentDurationSeconds", "Member must have value greater than or equal to 2"))},
		{"recording format enum", []change{{"destinations.1.s3.recordingConfiguration.format", "DASH"}},
			one(viol("DASH", "destinations.2.member.s3.recordingConfiguration.format", "Member must satisfy enum value set: [HLS]"))},
		{"thumbnail configurations max", []change{{"destinations.1.s3.thumbnailConfigurations", []any{map[string]any{}, map[string]any{"targetIntervalSeconds": 5}}}},
			one(viol("[{}, {targetIntervalSeconds=5}]", "destinations.2.member.s3.thumbnailConfigurations", "Member must have length less than or equal to 1"))},
		{"thumbnail interval max", []change{{"destinations.1.s3.thumbnailConfigurations.0.targetIntervalSeconds", 86401}},
			one(viol("86401", "destinations.2.member.s3.thumbnailConfigurations.1.member.targetIntervalSeconds", "Member must have value less than or equal to 86400"))},
		{"thumbnail storage max", []change{{"destinations.1.s3.thumbnailConfigurations.0.storage", []any{"SEQUENTIAL", "LATEST", "LATEST"}}},
			one(viol("[SEQUENTIAL, LATEST, LATEST]", "destinations.2.member.s3.thumbnailConfigurations.1.member.storage", "Member must have length less than or equal to 2"))},
		{"thumbnail storage enum", []change{{"destinations.1.s3.thumbnailConfigurations.0.storage", []any{"SEQUENTIAL", "BOTH"}}},
			one(viol("[SEQUENTIAL, BOTH]", "destinations.2.member.s3.thumbnailConfigurations.1.member.storage",
				"Member must satisfy constraint: [Member must satisfy enum value set: [SEQUENTIAL, LATEST]]"))},
		{"grid enums, range, pattern, length", []change{
			{"layout.grid.videoAspectRatio", "WIDE"},
			{"layout.grid.videoFillMode", "STRETCH"},
			{"layout.grid.gridGap", -1},
			{"layout.grid.featuredParticipantAttribute", "a b"},
			{"layout.grid.participantOrderAttribute", attr129},
		}, many(
			viol("a b", "layout.grid.featuredParticipantAttribute", patName),
			viol("WIDE", "layout.grid.videoAspectRatio", "Member must satisfy enum value set: [AUTO, VIDEO, SQUARE, PORTRAIT]"),
			viol("STRETCH", "layout.grid.videoFillMode", "Member must satisfy enum value set: [FILL, COVER, CONTAIN]"),
			viol("-1", "layout.grid.gridGap", "Member must have value greater than or equal to 0"),
			viol(attr129, "layout.grid.participantOrderAttribute", "Member must have length less than or equal to 128"),
		)},
		{"pip", []change{
			{"layout.pip.pipParticipantAttribute", "a.b"},
			{"layout.pip.pipBehavior", "FLOAT"},
			{"layout.pip.pipOffset", -1},
			{"layout.pip.pipPosition", "CENTER"},
			{"layout.pip.pipWidth", 0},
			{"layout.pip.pipHeight", 0},
		}, many(
			viol("a.b", "layout.pip.pipParticipantAttribute", patName),
			viol("FLOAT", "layout.pip.pipBehavior", "Member must satisfy enum value set: [STATIC, DYNAMIC]"),
			viol("-1", "layout.pip.pipOffset", "Member must have value greater than or equal to 0"),
			viol("CENTER", "layout.pip.pipPosition", "Member must satisfy enum value set: [TOP_LEFT, TOP_RIGHT, BOTTOM_LEFT, BOTTOM_RIGHT]"),
			viol("0", "layout.pip.pipWidth", "Member must have value greater than or equal to 1"),
			viol("0", "layout.pip.pipHeight", "Member must have value greater than or equal to 1"),
		)},
		{"tags max entries", []change{{"tags", manyTags}},
			one(viol("{"+strings.Join(tagParts, ", ")+"}", "tags", "Member must have length less than or equal to 50"))},
		{"tag key and value", []change{{"tags", map[string]any{"": "v", "k": strings.Repeat("v", 257)}}},
			many(viol("{=v, k="+strings.Repeat("v", 257)+"}", "tags", "Map keys must satisfy constraint: "+tagKeyRules),
				viol("{=v, k="+strings.Repeat("v", 257)+"}", "tags", "Map value must satisfy constraint: [Member must have length less than or equal to 256, Member must have length greater than or equal to 0]"))},
		{"null tag value", []change{{"tags", map[string]any{"k": nil}}},
			one(viol("{k=null}", "tags", "Map value must satisfy constraint: [Member must have length less than or equal to 256, Member must have length greater than or equal to 0, Member must not be null]"))},
		{"model order across levels", []change{
			{"tags", map[string]any{"": ""}},
			{"destinations.1.s3.encoderConfigurationArns", []any{}},
			{"destinations.0.channel.channelArn", nil},
			{"layout.grid.gridGap", -5},
			{"stageArn", "x"},
		}, many(
			viol("x", "stageArn", patARN+"stage/[a-zA-Z0-9-]+"),
			viol("-5", "layout.grid.gridGap", "Member must have value greater than or equal to 0"),
			viol("null", "destinations.1.member.channel.channelArn", notNull),
			viol("[]", "destinations.2.member.s3.encoderConfigurationArns", "Member must have length greater than or equal to 1"),
			viol("{=}", "tags", "Map keys must satisfy constraint: "+tagKeyRules),
		)},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantRefused(t, m, "StartComposition", validStartComposition(), c.changes, c.want)
		})
	}
}

func TestCreateEncoderConfigurationValidation(t *testing.T) {
	m := model(t)
	name129 := strings.Repeat("n", 129)
	for _, c := range []struct {
		name    string
		changes []change
		want    string
	}{
		{"name pattern", []change{{"name", "bad name"}}, one(viol("bad name", "name", patName))},
		{"name length", []change{{"name", name129}}, one(viol(name129, "name", "Member must have length less than or equal to 128"))},
		{"name pattern and length", []change{{"name", name129 + "!"}},
			many(viol(name129+"!", "name", patName), viol(name129+"!", "name", "Member must have length less than or equal to 128"))},
		{"width min", []change{{"video.width", 1}}, one(viol("1", "video.width", "Member must have value greater than or equal to 2"))},
		{"width max", []change{{"video.width", 1921}}, one(viol("1921", "video.width", "Member must have value less than or equal to 1920"))},
		{"height min", []change{{"video.height", -3}}, one(viol("-3", "video.height", "Member must have value greater than or equal to 2"))},
		{"height max", []change{{"video.height", 4096}}, one(viol("4096", "video.height", "Member must have value less than or equal to 1920"))},
		{"framerate min", []change{{"video.framerate", 0.5}}, one(viol("0.5", "video.framerate", "Member must have value greater than or equal to 1.0"))},
		{"framerate max", []change{{"video.framerate", 120}}, one(viol("120.0", "video.framerate", "Member must have value less than or equal to 60.0"))},
		{"framerate tiny", []change{{"video.framerate", 0.0001}}, one(viol("1.0E-4", "video.framerate", "Member must have value greater than or equal to 1.0"))},
		{"framerate huge", []change{{"video.framerate", 1e30}}, one(viol("1.0E30", "video.framerate", "Member must have value less than or equal to 60.0"))},
		{"framerate beyond float", []change{{"video.framerate", 1e39}}, one(viol("Infinity", "video.framerate", "Member must have value less than or equal to 60.0"))},
		{"bitrate min", []change{{"video.bitrate", 0}}, one(viol("0", "video.bitrate", "Member must have value greater than or equal to 1"))},
		{"bitrate max", []change{{"video.bitrate", 8500001}}, one(viol("8500001", "video.bitrate", "Member must have value less than or equal to 8500000"))},
		{"truncated to zero", []change{{"video.width", -0.5}}, one(viol("0", "video.width", "Member must have value greater than or equal to 2"))},
		{"tag key too long", []change{{"tags", map[string]any{strings.Repeat("k", 129): "v"}}},
			one(viol("{"+strings.Repeat("k", 129)+"=v}", "tags", "Map keys must satisfy constraint: "+tagKeyRules))},
		{"tag value in characters", []change{{"tags", map[string]any{"k": strings.Repeat("€", 257)}}},
			one(viol("{k="+strings.Repeat("€", 257)+"}", "tags", "Map value must satisfy constraint: [Member must have length less than or equal to 256, Member must have length greater than or equal to 0]"))},
		{"everything", []change{
			{"tags", map[string]any{"": "v"}},
			{"video.bitrate", 0},
			{"video.framerate", 61},
			{"video.height", 1},
			{"video.width", 1921},
			{"name", "a/b"},
		}, many(
			viol("a/b", "name", patName),
			viol("1921", "video.width", "Member must have value less than or equal to 1920"),
			viol("1", "video.height", "Member must have value greater than or equal to 2"),
			viol("61.0", "video.framerate", "Member must have value less than or equal to 60.0"),
			viol("0", "video.bitrate", "Member must have value greater than or equal to 1"),
			viol("{=v}", "tags", "Map keys must satisfy constraint: "+tagKeyRules),
		)},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantRefused(t, m, "CreateEncoderConfiguration", validEncoderConfiguration(), c.changes, c.want)
		})
	}
}

func TestValidateOutput(t *testing.T) {
	m := model(t)
	op := m.Operation("StartComposition")
	comp := map[string]any{
		"arn":      "arn:aws:ivs:us-west-2:123456789012:composition/AbCd1234",
		"stageArn": stageARN,
		"state":    "STARTING",
		"layout":   map[string]any{"grid": map[string]any{"gridGap": 2}},
		"destinations": []any{map[string]any{
			"id": "AbCd", "state": "STARTING",
			"configuration": map[string]any{"channel": map[string]any{"channelArn": channelARN}},
		}},
		"tags":      map[string]any{},
		"startTime": "2024-05-01T12:00:00Z",
	}
	if err := m.ValidateOutput(op, map[string]any{"composition": comp}); err != nil {
		t.Fatal(err)
	}
	comp["state"] = "RUNNING"
	err := m.ValidateOutput(op, map[string]any{"composition": comp})
	if err == nil || err.Error() != "ValidationException: "+one(viol("RUNNING", "composition.state", "Member must satisfy enum value set: [STARTING, ACTIVE, STOPPING, FAILED, STOPPED]")) {
		t.Errorf("got %v", err)
	}
	comp["state"] = "ACTIVE"
	comp["layout"].(map[string]any)["grid"].(map[string]any)["gap"] = 1
	comp["extra"] = true
	if err := m.ValidateOutput(op, map[string]any{"composition": comp}); err == nil ||
		err.Error() != "StartComposition output: members not in the model: composition.extra, composition.layout.grid.gap" {
		t.Errorf("got %v", err)
	}
	delete(comp, "extra")
	delete(comp["layout"].(map[string]any)["grid"].(map[string]any), "gap")
	delete(comp, "arn")
	if err := m.ValidateOutput(op, map[string]any{"composition": comp}); err == nil ||
		!strings.Contains(err.Error(), "Value null at 'composition.arn' failed to satisfy constraint: Member must not be null") {
		t.Errorf("got %v", err)
	}
	if err := m.ValidateOutput(m.Operation("DeleteStage"), struct{}{}); err != nil {
		t.Error(err)
	}
	if err := m.ValidateOutput(m.Operation("DeleteStage"), map[string]any{"x": 1}); err == nil {
		t.Error("members in an empty output accepted")
	}
}

func TestManyViolationsListed(t *testing.T) {
	m := model(t)
	b := `{"stageArn":"` + stageARN + `","destinations":[` + strings.TrimSuffix(strings.Repeat(`{"name":"a b"},`, 150), ",") + `]}`
	_, e := decode(t, m, "StartComposition", []byte(b))
	if e == nil || !strings.HasPrefix(e.Message, "151 validation errors detected: Value '[{name=a b}, ") ||
		strings.Count(e.Message, "failed to satisfy constraint") != MaxListedViolations ||
		!strings.HasSuffix(e.Message, viol("a b", "destinations.99.member.name", patName)) {
		t.Errorf("got %.300s ... %s", e, e.Message[len(e.Message)-200:])
	}
}
