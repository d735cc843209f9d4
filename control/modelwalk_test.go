package control

import (
	"context"
	"crypto/elliptic"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tessera-media/tessera/control/wire"
	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/internal/testsrv"
)

// The model walk: for every operation the server serves and every
// top-level member of its input, a request using the member is either
// honoured — its effect asserted: echoed in the response, or the answer
// changes with its value — or refused with a ValidationException that
// names the member and says the server does not support it yet. Never 200
// and ignored. A member missing from walkTable fails the test, so a member
// the model gains (or an operation the server starts serving) must be
// classified here.

// walkFixture holds the resources the probes use: two of each kind (for
// paging and filters), spares the Delete and Stop probes consume, and a
// stage session with two publishing participants.
type walkFixture struct {
	t                              *testing.T
	env                            *apiEnv
	model                          *wire.Model
	stageA, stageB, spareStage     string
	enc1, spareEnc, sto1, spareSto string
	comp1, spareComp               string
	key1, spareKey                 string
	ingest1, spareIngest           string
	session                        string
	alice, bob                     *publisher.Publisher
}

// answer is an API response: status, error type and message, JSON body.
type answer struct {
	status  int
	errType string
	message string
	body    map[string]any
	raw     string
}

// call sends a signed request for an operation with the given input
// members, placing them as the model's HTTP bindings say (the tag
// operations' resourceArn in the path, UntagResource's tagKeys in the
// query, the rest as the JSON body).
func (f *walkFixture) call(opName string, in map[string]any) answer {
	t := f.t
	t.Helper()
	op := f.model.Operation(opName)
	path := op.RequestURI
	q := url.Values{}
	body := map[string]any{}
	for k, v := range in {
		switch {
		case strings.Contains(path, "{"+k+"}"):
			path = strings.Replace(path, "{"+k+"}", url.PathEscape(v.(string)), 1)
		case op.Method == http.MethodDelete || op.Method == http.MethodGet:
			for _, s := range v.([]any) {
				q.Add(k, s.(string))
			}
		default:
			body[k] = v
		}
	}
	b := ""
	if op.Method == http.MethodPost {
		j, _ := json.Marshal(body)
		b = string(j)
	}
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	resp, err := http.DefaultClient.Do(signed(t, f.env, op.Method, path, b, false))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, errType: resp.Header.Get("X-Amzn-Errortype"), raw: string(raw)}
	_ = json.Unmarshal(raw, &a.body)
	if m, ok := a.body["message"].(string); ok {
		a.message = m
	}
	return a
}

// probe checks one member of one operation.
type probe func(f *walkFixture, op, member string)

// base returns a valid input of op with its required members.
func (f *walkFixture) base(op string) map[string]any {
	switch op {
	case "GetStage", "UpdateStage":
		return map[string]any{"arn": f.stageA}
	case "DeleteStage":
		return map[string]any{"arn": f.spareStage}
	case "CreateParticipantToken", "ListStageSessions":
		return map[string]any{"stageArn": f.stageA}
	case "ListParticipants", "GetStageSession":
		return map[string]any{"stageArn": f.stageA, "sessionId": f.session}
	case "GetParticipant", "ListParticipantEvents":
		return map[string]any{"stageArn": f.stageA, "sessionId": f.session, "participantId": "alice"}
	case "DisconnectParticipant":
		return map[string]any{"stageArn": f.stageA, "participantId": "bob"}
	case "GetEncoderConfiguration":
		return map[string]any{"arn": f.enc1}
	case "DeleteEncoderConfiguration":
		return map[string]any{"arn": f.spareEnc}
	case "CreateStorageConfiguration":
		return map[string]any{"s3": map[string]any{"bucketName": "walk"}}
	case "GetStorageConfiguration":
		return map[string]any{"arn": f.sto1}
	case "DeleteStorageConfiguration":
		return map[string]any{"arn": f.spareSto}
	case "StartComposition":
		return map[string]any{"stageArn": f.stageB, "destinations": []any{map[string]any{"channel": map[string]any{"channelArn": testChan}}}}
	case "GetComposition":
		return map[string]any{"arn": f.comp1}
	case "StopComposition":
		return map[string]any{"arn": f.spareComp}
	case "UpdateComposition":
		return map[string]any{"arn": f.comp1, "layout": map[string]any{}}
	case "CreateViewerToken":
		return map[string]any{"compositionArn": f.comp1}
	case "TagResource":
		return map[string]any{"resourceArn": f.stageA, "tags": map[string]any{"walk": "1"}}
	case "UntagResource":
		return map[string]any{"resourceArn": f.stageA, "tagKeys": []any{"walk"}}
	case "ListTagsForResource":
		return map[string]any{"resourceArn": f.stageA}
	case "ImportPublicKey":
		return map[string]any{"publicKeyMaterial": newAppKey(f.t, elliptic.P384()).pem}
	case "GetPublicKey":
		return map[string]any{"arn": f.key1}
	case "DeletePublicKey":
		return map[string]any{"arn": f.spareKey}
	case "CreateIngestConfiguration":
		return map[string]any{"ingestProtocol": "RTMPS"}
	case "GetIngestConfiguration", "UpdateIngestConfiguration":
		return map[string]any{"arn": f.ingest1}
	case "DeleteIngestConfiguration":
		return map[string]any{"arn": f.spareIngest}
	}
	return map[string]any{}
}

// missingARN is a well-formed ARN of no resource.
func missingARN(kind string) string {
	return "arn:aws:ivs:us-east-1:123456789012:" + kind + "/missing00000"
}

// missing is missingARN as a probe's alternative value.
func missing(kind string) func(*walkFixture) any {
	return func(*walkFixture) any { return missingARN(kind) }
}

// generic turns a Go value into its JSON form (maps, slices, float64).
func generic(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// subset reports whether every member of want is in got with the same
// value (got may add defaults; lists match element by element).
func subset(want, got any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range w {
			if !subset(v, g[k]) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !subset(w[i], g[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(want, got)
}

// at follows a path of member names and list indexes.
func at(v any, path ...any) any {
	for _, p := range path {
		switch p := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[p]
		case int:
			l, _ := v.([]any)
			if p >= len(l) {
				return nil
			}
			v = l[p]
		}
	}
	return v
}

// echoes: a request with the member set to value answers 2xx with the
// value (or a superset, defaults added) at path.
func echoes(value any, path ...any) probe {
	return func(f *walkFixture, op, member string) {
		f.t.Helper()
		a := f.call(op, with(f.base(op), member, generic(value)))
		if a.status/100 != 2 {
			f.t.Fatalf("%d %s %s", a.status, a.errType, a.raw)
		}
		if got := at(a.body, path...); !subset(generic(value), got) {
			f.t.Errorf("sent %v, answer has %v at %v", generic(value), got, path)
		}
	}
}

// changes: the answer with the member set to alt differs from the answer
// with the operation's base input (the member at its base value, or left
// out), and the base input is answered 2xx. alt is sent first, so that a
// destructive base (Delete, Stop) runs once.
func changes(alt func(f *walkFixture) any) probe {
	return func(f *walkFixture, op, member string) {
		f.t.Helper()
		other := f.call(op, with(f.base(op), member, generic(alt(f))))
		base := f.call(op, f.base(op))
		if base.status/100 != 2 {
			f.t.Fatalf("base input: %d %s %s", base.status, base.errType, base.raw)
		}
		if other.status == base.status && other.raw == base.raw {
			f.t.Errorf("the answer does not depend on %s: %s", member, base.raw)
		}
	}
}

func value(v any) func(*walkFixture) any { return func(*walkFixture) any { return v } }

// pages: nextToken from a page of one gives the next, different page.
func pages(list string) probe {
	return func(f *walkFixture, op, member string) {
		f.t.Helper()
		first := f.call(op, with(f.base(op), "maxResults", 1))
		next, _ := first.body["nextToken"].(string)
		if first.status != 200 || next == "" {
			f.t.Fatalf("a page of one has no nextToken: %d %s", first.status, first.raw)
		}
		second := f.call(op, with(with(f.base(op), "maxResults", 1), member, next))
		if second.status != 200 || reflect.DeepEqual(at(first.body, list, 0), at(second.body, list, 0)) {
			f.t.Errorf("nextToken does not turn the page: %s then %s", first.raw, second.raw)
		}
	}
}

// custom is a probe of its own.
func custom(check func(f *walkFixture)) probe {
	return func(f *walkFixture, _, _ string) { f.t.Helper(); check(f) }
}

// refusedMember: a request with the member is a ValidationException that
// names it and says the server does not support it yet.
func refusedMember(v any) probe {
	return func(f *walkFixture, op, member string) {
		f.t.Helper()
		a := f.call(op, with(f.base(op), member, generic(v)))
		if a.status != http.StatusBadRequest || a.errType != "ValidationException" ||
			!strings.Contains(a.message, member) || !strings.Contains(a.message, "not supported by this server yet") {
			f.t.Errorf("%d %s %q, want a ValidationException naming %s as not supported yet", a.status, a.errType, a.message, member)
		}
	}
}

// recordingOnSto1 is an autoParticipantRecordingConfiguration on the
// fixture's storage configuration.
func recordingOnSto1(f *walkFixture) any {
	return map[string]any{"storageConfigurationArn": f.sto1, "mediaTypes": []string{"AUDIO_ONLY"}}
}

// updatesParticipantRecording: UpdateStage sets the configuration, and an
// empty storage configuration ARN resets it to the defaults.
func updatesParticipantRecording(f *walkFixture) {
	f.t.Helper()
	for _, c := range []struct {
		cfg  any
		want string
	}{{recordingOnSto1(f), "AUDIO_ONLY"}, {map[string]any{"storageConfigurationArn": ""}, "AUDIO_VIDEO"}} {
		a := f.call("UpdateStage", with(f.base("UpdateStage"), "autoParticipantRecordingConfiguration", generic(c.cfg)))
		if got := at(a.body, "stage", "autoParticipantRecordingConfiguration", "mediaTypes", 0); a.status != 200 || got != c.want {
			f.t.Errorf("UpdateStage with %v: %d, mediaTypes %v, want %s", c.cfg, a.status, got, c.want)
		}
	}
}

var (
	missingStage = missing("stage")
	pageOfOne    = value(1)
)

// walkTable classifies every input member of every served operation:
// honoured (with the probe that shows it) or refused (refusedMember).
var walkTable = map[string]map[string]probe{
	"CreateStage": {
		"name": echoes("walk-stage", "stage", "name"),
		"participantTokenConfigurations": echoes([]map[string]any{{"userId": "u1", "duration": 30, "capabilities": []string{"PUBLISH"}, "attributes": map[string]string{"a": "b"}}},
			"participantTokens"),
		"tags":                                  echoes(map[string]string{"k": "v"}, "stage", "tags"),
		"autoParticipantRecordingConfiguration": changes(recordingOnSto1),
	},
	"GetStage":    {"arn": changes(missingStage)},
	"ListStages":  {"nextToken": pages("stages"), "maxResults": changes(pageOfOne)},
	"UpdateStage": {"arn": changes(missingStage), "name": echoes("renamed", "stage", "name"), "autoParticipantRecordingConfiguration": custom(updatesParticipantRecording)},
	"DeleteStage": {"arn": changes(missingStage)},

	"CreateParticipantToken": {
		"stageArn":     changes(missingStage),
		"duration":     echoes(30, "participantToken", "duration"),
		"userId":       echoes("walker", "participantToken", "userId"),
		"attributes":   echoes(map[string]string{"seat": "3"}, "participantToken", "attributes"),
		"capabilities": echoes([]string{"SUBSCRIBE"}, "participantToken", "capabilities"),
	},

	"ListParticipants": {
		"stageArn":               changes(missingStage),
		"sessionId":              changes(value("st-0000000000000")),
		"filterByUserId":         changes(value("alice")),
		"filterByPublished":      changes(value(false)),
		"filterByState":          changes(value("DISCONNECTED")),
		"nextToken":              pages("participants"),
		"maxResults":             changes(pageOfOne),
		"filterByRecordingState": changes(value("ACTIVE")),
	},
	"GetParticipant": {
		"stageArn":      changes(missingStage),
		"sessionId":     changes(value("st-0000000000000")),
		"participantId": changes(value("nobody")),
	},
	"ListParticipantEvents": {
		"stageArn":      changes(missingStage),
		"sessionId":     changes(value("st-0000000000000")),
		"participantId": changes(value("nobody")),
		"nextToken":     pages("events"),
		"maxResults":    changes(pageOfOne),
	},
	"DisconnectParticipant": {
		"stageArn": changes(missingStage),
		// The stageArn probe disconnected bob (the base input): bob's
		// session ended, alice's did not.
		"participantId": custom(func(f *walkFixture) {
			select {
			case <-f.bob.Done():
			case <-time.After(15 * time.Second):
				f.t.Fatal("bob still publishing after DisconnectParticipant")
			}
			select {
			case <-f.alice.Done():
				f.t.Fatal("alice disconnected too")
			default:
			}
		}),
		// IVS shows the reason nowhere; Tessera logs it with the end of the
		// participant's session.
		"reason": custom(func(f *walkFixture) {
			if a := f.call("DisconnectParticipant", with(f.base("DisconnectParticipant"), "reason", "walk")); a.status != 200 {
				f.t.Errorf("%d %s", a.status, a.raw)
			}
		}),
	},

	"CreateEncoderConfiguration": {
		"name":  echoes("walk-enc", "encoderConfiguration", "name"),
		"video": echoes(map[string]any{"width": 640, "height": 360, "framerate": 25, "bitrate": 1_000_000}, "encoderConfiguration", "video"),
		"tags":  echoes(map[string]string{"k": "v"}, "encoderConfiguration", "tags"),
	},
	"GetEncoderConfiguration":    {"arn": changes(missing("encoder-configuration"))},
	"ListEncoderConfigurations":  {"nextToken": pages("encoderConfigurations"), "maxResults": changes(pageOfOne)},
	"DeleteEncoderConfiguration": {"arn": changes(missing("encoder-configuration"))},
	"CreateStorageConfiguration": {
		"name": echoes("walk-sto", "storageConfiguration", "name"),
		"s3":   echoes(map[string]any{"bucketName": "walk-bucket"}, "storageConfiguration", "s3"),
		"tags": echoes(map[string]string{"k": "v"}, "storageConfiguration", "tags"),
	},
	"GetStorageConfiguration":    {"arn": changes(missing("storage-configuration"))},
	"ListStorageConfigurations":  {"nextToken": pages("storageConfigurations"), "maxResults": changes(pageOfOne)},
	"DeleteStorageConfiguration": {"arn": changes(missing("storage-configuration"))},

	"StartComposition": {
		"stageArn": changes(missingStage),
		"idempotencyToken": custom(func(f *walkFixture) {
			in := with(f.base("StartComposition"), "idempotencyToken", "walk-token")
			a, b := f.call("StartComposition", in), f.call("StartComposition", in)
			if a.status != 200 || at(a.body, "composition", "arn") != at(b.body, "composition", "arn") {
				f.t.Errorf("the same idempotencyToken started two compositions: %s, %s", a.raw, b.raw)
			}
		}),
		"layout": echoes(map[string]any{"grid": map[string]any{"gridGap": 4, "featuredParticipantAttribute": "featured"}}, "composition", "layout"),
		"destinations": custom(func(f *walkFixture) {
			dest := map[string]any{"name": "walk", "channel": map[string]any{"channelArn": testChan}}
			a := f.call("StartComposition", with(f.base("StartComposition"), "destinations", []any{dest}))
			if got := at(a.body, "composition", "destinations", 0, "configuration"); !subset(dest, got) {
				f.t.Errorf("sent %v, configured %v (%s)", dest, got, a.raw)
			}
		}),
		"tags": echoes(map[string]string{"k": "v"}, "composition", "tags"),
	},
	"GetComposition": {"arn": changes(missing("composition"))},
	"ListCompositions": {
		"filterByStageArn":                changes(func(f *walkFixture) any { return f.stageB }),
		"filterByEncoderConfigurationArn": changes(func(f *walkFixture) any { return f.enc1 }),
		"nextToken":                       pages("compositions"),
		"maxResults":                      changes(pageOfOne),
	},
	"StopComposition": {"arn": changes(missing("composition"))},
	"UpdateComposition": {
		"arn":    changes(missing("composition")),
		"layout": echoes(map[string]any{"pip": map[string]any{"pipPosition": "TOP_LEFT", "gridGap": 0, "pipOffset": 0}}, "composition", "layout"),
	},

	"CreateViewerToken": {
		"compositionArn": changes(missing("composition")),
		"duration": custom(func(f *walkFixture) {
			a := f.call("CreateViewerToken", with(f.base("CreateViewerToken"), "duration", 5))
			exp, err := time.Parse(time.RFC3339, fmt.Sprint(at(a.body, "viewerToken", "expirationTime")))
			if a.status != 200 || err != nil || time.Until(exp).Round(time.Minute) != 5*time.Minute {
				f.t.Errorf("duration 5: %d %s", a.status, a.raw)
			}
		}),
	},

	"TagResource": {
		"resourceArn": changes(missingStage),
		"tags": custom(func(f *walkFixture) {
			f.call("TagResource", with(f.base("TagResource"), "tags", map[string]any{"walked": "yes"}))
			if got := at(f.call("ListTagsForResource", f.base("ListTagsForResource")).body, "tags", "walked"); got != "yes" {
				f.t.Errorf("tag not set: %v", got)
			}
		}),
	},
	"UntagResource": {
		"resourceArn": changes(missingStage),
		"tagKeys": custom(func(f *walkFixture) {
			f.call("TagResource", with(f.base("TagResource"), "tags", map[string]any{"gone": "soon"}))
			f.call("UntagResource", with(f.base("UntagResource"), "tagKeys", []any{"gone"}))
			if got := at(f.call("ListTagsForResource", f.base("ListTagsForResource")).body, "tags", "gone"); got != nil {
				f.t.Errorf("tag not removed: %v", got)
			}
		}),
	},
	"ListTagsForResource": {"resourceArn": changes(missingStage)},

	"ImportPublicKey": {
		"publicKeyMaterial": custom(func(f *walkFixture) {
			in := f.base("ImportPublicKey")
			if a := f.call("ImportPublicKey", in); at(a.body, "publicKey", "publicKeyMaterial") != in["publicKeyMaterial"] {
				f.t.Errorf("material not echoed: %s", a.raw)
			}
		}),
		"name": echoes("walk-key", "publicKey", "name"),
		"tags": echoes(map[string]string{"k": "v"}, "publicKey", "tags"),
	},
	"GetPublicKey":    {"arn": changes(missing("public-key"))},
	"ListPublicKeys":  {"nextToken": pages("publicKeys"), "maxResults": changes(pageOfOne)},
	"DeletePublicKey": {"arn": changes(missing("public-key"))},

	"CreateIngestConfiguration": {
		"name": echoes("walk-ingest", "ingestConfiguration", "name"),
		"stageArn": custom(func(f *walkFixture) {
			a := f.call("CreateIngestConfiguration", with(f.base("CreateIngestConfiguration"), "stageArn", f.stageA))
			if at(a.body, "ingestConfiguration", "stageArn") != f.stageA {
				f.t.Errorf("stageArn not echoed: %s", a.raw)
			}
			if a := f.call("CreateIngestConfiguration", with(f.base("CreateIngestConfiguration"), "stageArn", missingARN("stage"))); a.status != http.StatusNotFound {
				f.t.Errorf("an unknown stage: %d %s", a.status, a.raw)
			}
		}),
		"userId":     echoes("walker", "ingestConfiguration", "userId"),
		"attributes": echoes(map[string]string{"seat": "4"}, "ingestConfiguration", "attributes"),
		"ingestProtocol": custom(func(f *walkFixture) {
			a := f.call("CreateIngestConfiguration", map[string]any{"ingestProtocol": "RTMP", "insecureIngest": true})
			if at(a.body, "ingestConfiguration", "ingestProtocol") != "RTMP" {
				f.t.Errorf("RTMP not echoed: %s", a.raw)
			}
		}),
		// Not echoed (as IVS): RTMP needs it, and ingest's set has it.
		"insecureIngest": custom(func(f *walkFixture) {
			if a := f.call("CreateIngestConfiguration", map[string]any{"ingestProtocol": "RTMP"}); a.status != http.StatusBadRequest || !strings.Contains(a.message, "insecureIngest") {
				f.t.Errorf("RTMP without insecureIngest: %d %s", a.status, a.raw)
			}
			for _, insecure := range []bool{false, true} {
				a := f.call("CreateIngestConfiguration", with(f.base("CreateIngestConfiguration"), "insecureIngest", insecure))
				arn, _ := at(a.body, "ingestConfiguration", "arn").(string)
				if k, ok := f.env.ing.IngestKeys().Get(arn); !ok || k.Insecure != insecure {
					f.t.Errorf("insecureIngest %v: ingest's set has %+v (%s)", insecure, k, a.raw)
				}
			}
		}),
		"redundantIngest": refusedMember(true),
		"tags":            echoes(map[string]string{"k": "v"}, "ingestConfiguration", "tags"),
	},
	"GetIngestConfiguration": {"arn": changes(missing("ingest-configuration"))},
	"UpdateIngestConfiguration": {
		"arn": changes(missing("ingest-configuration")),
		"stageArn": custom(func(f *walkFixture) {
			for _, stage := range []string{f.stageB, f.stageA} {
				a := f.call("UpdateIngestConfiguration", with(f.base("UpdateIngestConfiguration"), "stageArn", stage))
				if at(a.body, "ingestConfiguration", "stageArn") != stage {
					f.t.Errorf("stageArn not echoed: %s", a.raw)
				}
			}
		}),
		"redundantIngest": refusedMember(true),
	},
	"DeleteIngestConfiguration": {
		"arn": changes(missing("ingest-configuration")),
		// force matters only while the configuration publishes: here it
		// deletes.
		"force": custom(func(f *walkFixture) {
			arn, _ := at(f.call("CreateIngestConfiguration", f.base("CreateIngestConfiguration")).body, "ingestConfiguration", "arn").(string)
			if a := f.call("DeleteIngestConfiguration", map[string]any{"arn": arn, "force": true}); a.status != 200 {
				f.t.Errorf("%d %s", a.status, a.raw)
			}
			if a := f.call("GetIngestConfiguration", map[string]any{"arn": arn}); a.status != http.StatusNotFound {
				f.t.Errorf("after a forced delete: %d %s", a.status, a.raw)
			}
		}),
	},
	"ListIngestConfigurations": {
		"filterByStageArn": changes(func(f *walkFixture) any { return f.stageB }),
		"filterByState":    changes(value("ACTIVE")),
		"nextToken":        pages("ingestConfigurations"),
		"maxResults":       changes(pageOfOne),
	},

	"GetStageSession": {
		"stageArn":  changes(missingStage),
		"sessionId": changes(value("st-0000000000000")),
	},
	"ListStageSessions": {
		"stageArn":   changes(missingStage),
		"nextToken":  pages("stageSessions"),
		"maxResults": changes(pageOfOne),
	},
}

func TestModelWalk(t *testing.T) {
	env := startAPI(t, t.TempDir(), func(c *Config) {
		c.Quotas.PublicKeys, c.Quotas.StorageConfigurations = 20, 20
		c.Quotas.CompositionsPerStage, c.Quotas.Compositions = 50, 100
		c.Timeouts.SessionEnd = 50 * time.Millisecond // stage A's first session ends at once
	})
	f := newWalkFixture(t, env)
	for _, op := range f.model.Operations() {
		if env.srv.ops[op.Name] == nil || op.Input == nil {
			continue
		}
		for _, m := range op.Input.Members {
			check, ok := walkTable[op.Name][m.Name]
			if !ok {
				t.Errorf("%s.%s is in no walk table entry: is it honoured or refused?", op.Name, m.Name)
				continue
			}
			t.Run(op.Name+"/"+m.Name, func(t *testing.T) {
				ft := *f
				ft.t = t
				check(&ft, op.Name, m.Name)
			})
		}
	}
}

func newWalkFixture(t *testing.T, env *apiEnv) *walkFixture {
	f := &walkFixture{t: t, env: env, model: wire.MustModel()}
	must := func(op string, in map[string]any, path ...any) string {
		t.Helper()
		a := f.call(op, in)
		s, _ := at(a.body, path...).(string)
		if a.status != 200 || s == "" {
			t.Fatalf("%s: %d %s", op, a.status, a.raw)
		}
		return s
	}
	f.stageA = must("CreateStage", nil, "stage", "arn")
	f.stageB = must("CreateStage", nil, "stage", "arn")
	f.spareStage = must("CreateStage", nil, "stage", "arn")
	f.enc1 = must("CreateEncoderConfiguration", nil, "encoderConfiguration", "arn")
	must("CreateEncoderConfiguration", nil, "encoderConfiguration", "arn")
	f.spareEnc = must("CreateEncoderConfiguration", nil, "encoderConfiguration", "arn")
	sto := map[string]any{"s3": map[string]any{"bucketName": "walk"}}
	f.sto1 = must("CreateStorageConfiguration", sto, "storageConfiguration", "arn")
	must("CreateStorageConfiguration", sto, "storageConfiguration", "arn")
	f.spareSto = must("CreateStorageConfiguration", sto, "storageConfiguration", "arn")
	channel := []any{map[string]any{"channel": map[string]any{"channelArn": testChan}}}
	f.comp1 = must("StartComposition", map[string]any{"stageArn": f.stageA, "destinations": channel}, "composition", "arn")
	must("StartComposition", map[string]any{"stageArn": f.stageA, "destinations": []any{map[string]any{"s3": map[string]any{
		"storageConfigurationArn": f.sto1, "encoderConfigurationArns": []any{f.enc1}}}}}, "composition", "arn")
	f.spareComp = must("StartComposition", map[string]any{"stageArn": f.stageB, "destinations": channel}, "composition", "arn")
	f.key1 = must("ImportPublicKey", f.base("ImportPublicKey"), "publicKey", "arn")
	must("ImportPublicKey", f.base("ImportPublicKey"), "publicKey", "arn")
	f.spareKey = must("ImportPublicKey", f.base("ImportPublicKey"), "publicKey", "arn")
	f.ingest1 = must("CreateIngestConfiguration", map[string]any{"ingestProtocol": "RTMPS", "stageArn": f.stageA}, "ingestConfiguration", "arn")
	must("CreateIngestConfiguration", f.base("CreateIngestConfiguration"), "ingestConfiguration", "arn")
	f.spareIngest = must("CreateIngestConfiguration", f.base("CreateIngestConfiguration"), "ingestConfiguration", "arn")

	// A first session of stage A, ended; then two participants publishing
	// to it, with self-signed tokens (so that their ids are known).
	k := newAppKey(t, elliptic.P384())
	kid := must("ImportPublicKey", map[string]any{"publicKeyMaterial": k.pem}, "publicKey", "arn")
	for _, id := range []string{"early", "alice", "bob"} {
		claims := map[string]any{"exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix(), "jti": id,
			"resource": f.stageA, "topic": arnID(f.stageA), "whip_url": env.whipURL, "user_id": id, "version": "1.0",
			"capabilities": map[string]bool{"allow_publish": true}}
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		p, err := publisher.Start(ctx, publisher.Config{WHIP: env.whipURL, Token: k.sign(t, kid, claims), NoAudio: true, Logger: quietLogger()})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close(context.Background()) })
		switch id {
		case "early":
			testsrv.WaitFor(t, 10*time.Second, "a first session", func() bool {
				s, _ := at(f.call("GetStage", map[string]any{"arn": f.stageA}).body, "stage", "activeSessionId").(string)
				return s != ""
			})
			p.Close(context.Background())
			testsrv.WaitFor(t, 10*time.Second, "the first session to end", func() bool {
				return at(f.call("GetStage", map[string]any{"arn": f.stageA}).body, "stage", "activeSessionId") == nil
			})
		case "alice":
			f.alice = p
		default:
			f.bob = p
		}
	}
	testsrv.WaitFor(t, 10*time.Second, "both participants to publish", func() bool {
		f.session, _ = at(f.call("GetStage", map[string]any{"arn": f.stageA}).body, "stage", "activeSessionId").(string)
		if f.session == "" {
			return false
		}
		a := f.call("ListParticipants", map[string]any{"stageArn": f.stageA, "sessionId": f.session, "filterByPublished": true})
		l, _ := at(a.body, "participants").([]any)
		return len(l) == 2
	})
	return f
}
