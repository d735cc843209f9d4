package wire

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzStartComposition sends arbitrary bodies through DecodeInput for
// StartComposition and CreateEncoderConfiguration: decoding never panics,
// every rejection is a 400 SerializationException or ValidationException,
// and an accepted input marshals to JSON that decodes, and validates, to
// the same value.
func FuzzStartComposition(f *testing.F) {
	m, err := Load()
	if err != nil {
		f.Fatal(err)
	}
	seed := func(v any) {
		b, err := json.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	seed(validStartComposition())
	seed(validEncoderConfiguration())
	for _, s := range []string{
		``, `null`, `{}`, `[]`, `"x"`, `{"stageArn":null}`,
		`{"stageArn":"arn:aws:ivs:us-west-2:1:stage/a","destinations":[{"channel":{"channelArn":"arn:aws:ivs:us-west-2:1:channel/a"}}]}`,
		`{"stageArn":"arn:aws:ivs:us-west-2:1:stage/a","destinations":[{"s3":{"storageConfigurationArn":"arn:aws:ivs:us-west-2:1:storage-configuration/a","encoderConfigurationArns":["arn:aws:ivs:us-west-2:1:encoder-configuration/a"],"thumbnailConfigurations":[{"storage":["LATEST"]}]}}],"layout":{"pip":{"pipWidth":1.5}}}`,
		`{"video":{"width":2.5,"height":-0,"framerate":60.00000001,"bitrate":1e3},"tags":{"\u00e9":"\ud83d\ude00"}}`,
		`{"name":"\xff\xfe","tags":{"a":null}}`,
		`{"video":{"framerate":1e39}}`,
		`{"destinations":[null,{},[],1]}`,
	} {
		f.Add([]byte(s))
	}
	ops := []*Operation{m.Operation("StartComposition"), m.Operation("CreateEncoderConfiguration")}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, op := range ops {
			got, e := m.DecodeInput(op, nil, nil, nil, b)
			if e != nil {
				if e.Status != 400 || (e.Type != "ValidationException" && e.Type != "SerializationException") || e.Message == "" {
					t.Fatalf("%s: unexpected error %+v", op.Name, e)
				}
				continue
			}
			again, err := json.Marshal(got)
			if err != nil {
				t.Fatalf("%s: accepted input does not marshal: %v", op.Name, err)
			}
			got2, e := m.DecodeInput(op, nil, nil, nil, again)
			if e != nil {
				t.Fatalf("%s: accepted %q, but its round trip %s is rejected: %v", op.Name, b, again, e)
			}
			if !reflect.DeepEqual(got, got2) {
				t.Fatalf("%s: round trip changed the value:\n%#v\n%#v", op.Name, got, got2)
			}
			if e := m.Validate(op.Input, got); e != nil {
				t.Fatalf("%s: Validate rejects an accepted value: %v", op.Name, e)
			}
		}
	})
}
