package wire

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

const (
	stageARN   = "arn:aws:ivs:us-west-2:123456789012:stage/AbCd1234"
	channelARN = "arn:aws:ivs:us-west-2:123456789012:channel/AbCd1234"
	storageARN = "arn:aws:ivs:us-west-2:123456789012:storage-configuration/AbCd1234"
	encoderARN = "arn:aws:ivs:us-west-2:123456789012:encoder-configuration/AbCd1234"

	patARN      = "Member must satisfy regular expression pattern: arn:aws:ivs:[a-z0-9-]+:[0-9]+:"
	patName     = "Member must satisfy regular expression pattern: [a-zA-Z0-9-_]*"
	notNull     = "Member must not be null"
	tagKeyRules = "[Member must have length less than or equal to 128, Member must have length greater than or equal to 1]"
)

// validStartComposition is a StartComposition body using every member:
// one channel and one S3 destination, a grid and a PiP layout.
func validStartComposition() map[string]any {
	return map[string]any{
		"stageArn":         stageARN,
		"idempotencyToken": "0b4b7a1c-2f4e-4c55-9d4e-1a2b3c4d5e6f",
		"layout": map[string]any{
			"grid": map[string]any{
				"featuredParticipantAttribute": "featured",
				"omitStoppedVideo":             true,
				"videoAspectRatio":             "VIDEO",
				"videoFillMode":                "COVER",
				"gridGap":                      2,
				"participantOrderAttribute":    "order",
			},
			"pip": map[string]any{
				"featuredParticipantAttribute": "featured",
				"omitStoppedVideo":             false,
				"videoFillMode":                "CONTAIN",
				"gridGap":                      0,
				"pipParticipantAttribute":      "pip",
				"pipBehavior":                  "DYNAMIC",
				"pipOffset":                    8,
				"pipPosition":                  "BOTTOM_RIGHT",
				"pipWidth":                     320,
				"pipHeight":                    180,
				"participantOrderAttribute":    "order",
			},
		},
		"destinations": []any{
			map[string]any{
				"name":    "channel-1",
				"channel": map[string]any{"channelArn": channelARN, "encoderConfigurationArn": encoderARN},
			},
			map[string]any{
				"name": "recording_1",
				"s3": map[string]any{
					"storageConfigurationArn":  storageARN,
					"encoderConfigurationArns": []any{encoderARN},
					"recordingConfiguration": map[string]any{
						"hlsConfiguration": map[string]any{"targetSegmentDurationSeconds": 6},
						"format":           "HLS",
					},
					"thumbnailConfigurations": []any{
						map[string]any{"targetIntervalSeconds": 60, "storage": []any{"SEQUENTIAL", "LATEST"}},
					},
				},
			},
		},
		"tags": map[string]any{"team": "video", "empty": ""},
	}
}

func validEncoderConfiguration() map[string]any {
	return map[string]any{
		"name":  "hd-720p_30",
		"video": map[string]any{"width": 1280, "height": 720, "framerate": 30, "bitrate": 2500000},
		"tags":  map[string]any{"k": "v"},
	}
}

type deleted struct{}

// set replaces (or, with deleted{}, removes) the value at a dotted path;
// numeric parts index lists.
func set(root any, path string, v any) {
	parts := strings.Split(path, ".")
	cur := root
	for i, p := range parts {
		last := i == len(parts)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				if _, del := v.(deleted); del {
					delete(c, p)
				} else {
					c[p] = v
				}
				return
			}
			cur = c[p]
		case []any:
			n, _ := strconv.Atoi(p)
			if last {
				c[n] = v
				return
			}
			cur = c[n]
		default:
			panic("set: no container at " + path)
		}
	}
}

func body(t testing.TB, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decode(t testing.TB, m *Model, op string, b []byte) (map[string]any, *Error) {
	t.Helper()
	return m.DecodeInput(m.Operation(op), nil, nil, nil, b)
}

func TestValidStartComposition(t *testing.T) {
	m := model(t)
	in := validStartComposition()
	in["unknownTopLevel"] = 1
	set(in, "layout.grid.unknownNested", "x")
	got, e := decode(t, m, "StartComposition", body(t, in))
	if e != nil {
		t.Fatal(e)
	}
	if _, ok := got["unknownTopLevel"]; ok {
		t.Error("unknown member kept")
	}
	grid := got["layout"].(map[string]any)["grid"].(map[string]any)
	if _, ok := grid["unknownNested"]; ok {
		t.Error("unknown nested member kept")
	}
	if grid["gridGap"] != int64(2) || grid["omitStoppedVideo"] != true || grid["videoAspectRatio"] != "VIDEO" {
		t.Errorf("grid %#v", grid)
	}
	dests := got["destinations"].([]any)
	s3 := dests[1].(map[string]any)["s3"].(map[string]any)
	if !reflect.DeepEqual(s3["encoderConfigurationArns"], []any{encoderARN}) {
		t.Errorf("s3 %#v", s3)
	}
	if got["tags"].(map[string]any)["empty"] != "" {
		t.Error("empty tag value lost")
	}
	// Only the required members.
	if _, e := decode(t, m, "StartComposition", []byte(`{"stageArn":"`+stageARN+`","destinations":[{"channel":{"channelArn":"`+channelARN+`"}}]}`)); e != nil {
		t.Error(e)
	}
	// Null members count as absent.
	if _, e := decode(t, m, "StartComposition", []byte(`{"stageArn":"`+stageARN+`","layout":null,"tags":null,"destinations":[{"channel":{"channelArn":"`+channelARN+`"},"s3":null}]}`)); e != nil {
		t.Error(e)
	}
}

// TestNullBody: a body that is JSON null is a ValidationException, for an
// operation without required members too.
func TestNullBody(t *testing.T) {
	m := model(t)
	for _, op := range []string{"CreateEncoderConfiguration", "ListStages", "StartComposition"} {
		for _, b := range []string{`null`, ` null `} {
			_, e := decode(t, m, op, []byte(b))
			if e == nil || e.Status != 400 || e.Type != "ValidationException" || e.Message != msgNullBody {
				t.Errorf("%s %q: got %v", op, b, e)
			}
		}
	}
}

func TestValidEncoderConfiguration(t *testing.T) {
	m := model(t)
	for _, b := range []string{
		string(body(t, validEncoderConfiguration())),
		``, `   `, `{}`,
		`{"video":{"width":2,"height":1920,"framerate":1,"bitrate":8500000}}`,
		`{"video":{"width":1920,"height":2,"framerate":60,"bitrate":1}}`,
		`{"video":{"framerate":60.0000001}}`, // a Java Float rounds it to 60
		`{"name":"` + strings.Repeat("a", 128) + `"}`,
		`{"tags":{"k":"` + strings.Repeat("€", 256) + `"}}`, // characters, not bytes
		`{"tags":{"` + strings.Repeat("😀", 128) + `":""}}`,
	} {
		if _, e := decode(t, m, "CreateEncoderConfiguration", []byte(b)); e != nil {
			t.Errorf("%s: %v", b, e)
		}
	}
	got, e := decode(t, m, "CreateEncoderConfiguration", []byte(`{"video":{"width":2.9,"height":1.9e3,"framerate":29.97}}`))
	if e != nil {
		t.Fatal(e)
	}
	if v := got["video"].(map[string]any); v["width"] != int64(2) || v["height"] != int64(1900) || v["framerate"] != 29.97 {
		t.Errorf("video %#v", v)
	}
}

func TestSerializationErrors(t *testing.T) {
	m := model(t)
	for _, c := range []struct{ op, body, want string }{
		{"CreateEncoderConfiguration", `{"name":1}`, "class java.lang.Short can not be converted to an String"},
		{"CreateEncoderConfiguration", `{"name":70000}`, "class java.lang.Integer can not be converted to an String"},
		{"CreateEncoderConfiguration", `{"name":3000000000}`, "class java.lang.Long can not be converted to an String"},
		{"CreateEncoderConfiguration", `{"name":1e3}`, "class java.lang.Double can not be converted to an String"},
		{"CreateEncoderConfiguration", `{"name":true}`, "class java.lang.Boolean can not be converted to an String"},
		{"CreateEncoderConfiguration", `{"name":[]}`, "Start of list found where not expected"},
		{"CreateEncoderConfiguration", `{"name":{}}`, "Start of structure or map found where not expected."},
		{"CreateEncoderConfiguration", `{"video":{"width":"1280"}}`, "class java.lang.String can not be converted to an Integer"},
		{"CreateEncoderConfiguration", `{"video":{"width":false}}`, "class java.lang.Boolean can not be converted to an Integer"},
		{"CreateEncoderConfiguration", `{"video":{"width":3000000000}}`, "Numeric value (3000000000) out of range of int (-2147483648 - 2147483647)"},
		{"CreateEncoderConfiguration", `{"video":{"width":-2.2e9}}`, "Numeric value (-2.2e9) out of range of int (-2147483648 - 2147483647)"},
		{"CreateEncoderConfiguration", `{"video":{"width":1e400}}`, "Numeric value (1e400) out of range of int (-2147483648 - 2147483647)"},
		{"CreateEncoderConfiguration", `{"video":{"framerate":"30"}}`, "class java.lang.String can not be converted to an Float"},
		{"CreateEncoderConfiguration", `{"video":{"framerate":1e400}}`, "Numeric value (1e400) out of range of float"},
		{"CreateEncoderConfiguration", `{"video":1}`, "Expected null"},
		{"CreateEncoderConfiguration", `{"video":[]}`, "Start of list found where not expected"},
		{"CreateEncoderConfiguration", `{"tags":[]}`, "Start of list found where not expected"},
		{"CreateEncoderConfiguration", `{"tags":"k=v"}`, "Expected map or null"},
		{"CreateEncoderConfiguration", `{"tags":{"k":1}}`, "class java.lang.Short can not be converted to an String"},
		{"StartComposition", `{"destinations":{}}`, "Start of structure or map found where not expected."},
		{"StartComposition", `{"destinations":"x"}`, "Expected list or null"},
		{"StartComposition", `{"destinations":[1]}`, "Expected null"},
		{"StartComposition", `{"layout":{"grid":{"omitStoppedVideo":"true"}}}`, "class java.lang.String can not be converted to an Boolean"},
		{"StartComposition", `{"layout":{"grid":{"omitStoppedVideo":1}}}`, "class java.lang.Short can not be converted to an Boolean"},
		{"StartComposition", `[]`, "Start of list found where not expected"},
		{"StartComposition", `"x"`, "Expected null"},
		{"StartComposition", `{`, "Could not parse request body into json: unexpected EOF"},
		{"StartComposition", `{"a":1}{}`, "Could not parse request body into json: data after the JSON value"},
		{"StartComposition", `{"a":01}`, "Could not parse request body into json: invalid character '1' after object key:value pair"},
	} {
		_, e := decode(t, m, c.op, []byte(c.body))
		if e == nil || e.Status != 400 || e.Type != "SerializationException" || e.Message != c.want {
			t.Errorf("%s %s: got %+v, want SerializationException %q", c.op, c.body, e, c.want)
		}
	}
}

func TestQueryAndURIMembers(t *testing.T) {
	m := model(t)
	op, params, ok := m.Route("DELETE", "/tags/"+url.PathEscape(stageARN))
	if !ok || op.Name != "UntagResource" {
		t.Fatal("no route")
	}
	q, _ := url.ParseQuery("tagKeys=team&tagKeys=empty&other=x")
	got, e := m.DecodeInput(op, params, q, nil, nil)
	if e != nil {
		t.Fatal(e)
	}
	want := map[string]any{"resourceArn": stageARN, "tagKeys": []any{"team", "empty"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v", got)
	}
	// tagKeys is bound to the query string: a body member of that name is ignored.
	_, e = m.DecodeInput(op, params, nil, nil, []byte(`{"tagKeys":["team"]}`))
	if e == nil || e.Message != one(viol("null", "tagKeys", notNull)) {
		t.Errorf("got %v", e)
	}
	q, _ = url.ParseQuery("tagKeys=&tagKeys=a")
	_, e = m.DecodeInput(op, params, q, nil, nil)
	if e == nil || e.Message != one(viol("[, a]", "tagKeys", "Member must satisfy constraint: "+tagKeyRules)) {
		t.Errorf("got %v", e)
	}
	q = url.Values{}
	for i := range 51 {
		q.Add("tagKeys", "k")
		_ = i
	}
	_, e = m.DecodeInput(op, params, q, nil, nil)
	if e == nil || e.Message != one(viol("["+strings.TrimSuffix(strings.Repeat("k, ", 51), ", ")+"]", "tagKeys", "Member must have length less than or equal to 50")) {
		t.Errorf("got %v", e)
	}
	_, e = m.DecodeInput(m.Operation("ListTagsForResource"), nil, nil, nil, nil)
	if e == nil || e.Message != one(viol("null", "resourceArn", notNull)) {
		t.Errorf("got %v", e)
	}
	tag := m.Operation("TagResource")
	got, e = m.DecodeInput(tag, map[string]string{"resourceArn": stageARN}, nil, nil, []byte(`{"tags":{"a":"b"}}`))
	if e != nil || !reflect.DeepEqual(got, map[string]any{"resourceArn": stageARN, "tags": map[string]any{"a": "b"}}) {
		t.Errorf("got %#v %v", got, e)
	}
}

func TestTypedLocations(t *testing.T) {
	doc := `{"metadata":{"protocol":"rest-json"},
	"shapes":{"S":{"type":"string"},"I":{"type":"integer","max":10},"B":{"type":"boolean"},"F":{"type":"double"},
	  "T":{"type":"timestamp"},"L":{"type":"list","member":{"shape":"I"}},"M":{"type":"map","key":{"shape":"S"},"value":{"shape":"S"}},
	  "SL":{"type":"list","member":{"shape":"S"}},
	  "In":{"type":"structure","members":{
	    "n":{"shape":"I","location":"querystring","locationName":"n"},
	    "b":{"shape":"B","location":"querystring","locationName":"b"},
	    "f":{"shape":"F","location":"querystring","locationName":"f"},
	    "t":{"shape":"T","location":"header","locationName":"X-Time"},
	    "l":{"shape":"L","location":"querystring","locationName":"l"},
	    "rest":{"shape":"M","location":"querystring"},
	    "h":{"shape":"SL","location":"header","locationName":"X-List"},
	    "meta":{"shape":"M","location":"headers","locationName":"X-Meta-"},
	    "id":{"shape":"I","location":"uri","locationName":"id"},
	    "bodyName":{"shape":"S","locationName":"BodyName"}}}},
	"operations":{"O":{"http":{"method":"POST","requestUri":"/o/{id}"},"input":{"shape":"In"}}}}`
	m, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	op, params, ok := m.Route("POST", "/o/7")
	if !ok {
		t.Fatal("no route")
	}
	q, _ := url.ParseQuery("n=3&b=true&f=2.5&l=1&l=2&x=y")
	h := http.Header{}
	h.Set("X-Time", "Tue, 15 Nov 1994 08:12:31 GMT")
	h.Add("X-List", "a, b")
	h.Add("X-List", "c")
	h.Set("X-Meta-Color", "red")
	got, e := m.DecodeInput(op, params, q, h, []byte(`{"BodyName":"bn","bodyName":"ignored"}`))
	if e != nil {
		t.Fatal(e)
	}
	if got["n"] != int64(3) || got["b"] != true || got["f"] != 2.5 || got["id"] != int64(7) || got["bodyName"] != "bn" ||
		!reflect.DeepEqual(got["l"], []any{int64(1), int64(2)}) || !reflect.DeepEqual(got["h"], []any{"a", "b", "c"}) ||
		!reflect.DeepEqual(got["rest"], map[string]any{"x": "y"}) || !reflect.DeepEqual(got["meta"], map[string]any{"Color": "red"}) {
		t.Errorf("got %#v", got)
	}
	if ts := fmt.Sprint(got["t"]); ts != "1994-11-15 08:12:31 +0000 UTC" {
		t.Errorf("timestamp %s", ts)
	}
	for query, want := range map[string]string{
		"n=x":   "class java.lang.String can not be converted to an Integer",
		"b=yes": "class java.lang.String can not be converted to an Boolean",
		"f=x":   "class java.lang.String can not be converted to an Double",
	} {
		q, _ := url.ParseQuery(query)
		if _, e := m.DecodeInput(op, params, q, nil, nil); e == nil || e.Message != want {
			t.Errorf("%s: %v", query, e)
		}
	}
	q, _ = url.ParseQuery("n=11")
	if _, e := m.DecodeInput(op, params, q, nil, nil); e == nil || e.Message != one(viol("11", "n", "Member must have value less than or equal to 10")) {
		t.Errorf("got %v", e)
	}
}

func TestDecodeRequest(t *testing.T) {
	m := model(t)
	op := m.Operation("CreateEncoderConfiguration")
	r := httptest.NewRequest("POST", "/CreateEncoderConfiguration", strings.NewReader(`{"name":"x"}`))
	got, e := m.DecodeRequest(op, nil, r)
	if e != nil || got["name"] != "x" {
		t.Errorf("%v %v", got, e)
	}
	r = httptest.NewRequest("POST", "/CreateEncoderConfiguration", strings.NewReader(`{"name":"`+strings.Repeat("x", MaxBodyBytes)+`"}`))
	if _, e := m.DecodeRequest(op, nil, r); e == nil || e.Status != 413 {
		t.Errorf("got %v", e)
	}
	if got, e := m.DecodeInput(m.Operation("DeleteStage"), nil, nil, nil, []byte(`{"arn":"`+stageARN+`"}`)); e != nil || got["arn"] != stageARN {
		t.Errorf("%v %v", got, e)
	}
	if _, e := m.DecodeInput(nil, nil, nil, nil, nil); e == nil || e.Status != 500 {
		t.Errorf("nil operation: %v", e)
	}
}

func TestSyntheticShapes(t *testing.T) {
	doc := `{"metadata":{"protocol":"rest-json"},
	"shapes":{
	  "Secret":{"type":"string","max":3,"sensitive":true},
	  "Bytes":{"type":"blob","max":2},
	  "Count":{"type":"long","min":0},
	  "Ratio":{"type":"double","max":1.5},
	  "When":{"type":"timestamp","timestampFormat":"iso8601"},
	  "Ints":{"type":"list","member":{"shape":"Count"}},
	  "Grid":{"type":"list","member":{"shape":"Ints"},"max":2},
	  "Item":{"type":"structure","required":["Id"],"members":{"Id":{"shape":"Secret"}}},
	  "Items":{"type":"map","key":{"shape":"Secret"},"value":{"shape":"Item"}},
	  "In":{"type":"structure","members":{
	    "TableName":{"shape":"Secret"},"Data":{"shape":"Bytes"},"N":{"shape":"Count"},"R":{"shape":"Ratio"},
	    "At":{"shape":"When"},"Grid":{"shape":"Grid"},"Items":{"shape":"Items"}}}},
	"operations":{"O":{"http":{"method":"POST","requestUri":"/o"},"input":{"shape":"In"}}}}`
	m, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	op := m.Operation("O")
	got, e := m.DecodeInput(op, nil, nil, nil, []byte(`{"TableName":"abc","Data":"AQI=","N":9007199254740993,"R":1.5,"At":"2024-05-01T12:00:00.5Z",
		"Grid":[[1,2],[3]],"Items":{"k":{"Id":"x"}}}`))
	if e != nil {
		t.Fatal(e)
	}
	if got["N"] != int64(9007199254740993) || !reflect.DeepEqual(got["Data"], []byte{1, 2}) || fmt.Sprint(got["At"]) != "2024-05-01 12:00:00.5 +0000 UTC" {
		t.Errorf("got %#v", got)
	}
	// Round trip of blobs, longs and timestamps.
	again, _ := json.Marshal(got)
	if got2, e := m.DecodeInput(op, nil, nil, nil, again); e != nil || !reflect.DeepEqual(got, got2) {
		t.Errorf("round trip: %v\n%#v\n%#v", e, got, got2)
	}
	_, e = m.DecodeInput(op, nil, nil, nil, []byte(`{"TableName":"abcd","Data":"AQID","N":-1,"R":2,"Grid":[[1],[-1,2],[]],
		"Items":{"toolong":{},"k":null}}`))
	want := many(
		"Value at 'tableName' failed to satisfy constraint: Member must have length less than or equal to 3",
		viol("java.nio.HeapByteBuffer[pos=0 lim=3 cap=3]", "data", "Member must have length less than or equal to 2"),
		viol("-1", "n", "Member must have value greater than or equal to 0"),
		viol("2.0", "r", "Member must have value less than or equal to 1.5"),
		viol("[[1], [-1, 2], []]", "grid", "Member must have length less than or equal to 2"),
		viol("[-1, 2]", "grid.2.member", "Member must satisfy constraint: [Member must have value greater than or equal to 0]"),
		viol("{*** Sensitive Data Redacted ***=null, *** Sensitive Data Redacted ***={}}", "items",
			"Map keys must satisfy constraint: [Member must have length less than or equal to 3]"),
		viol("null", "items.k", notNull),
		viol("null", "items.toolong.id", notNull),
	)
	if e == nil || e.Message != want {
		t.Errorf("got  %v\nwant %s", e, want)
	}
	for b, msg := range map[string]string{
		`{"Data":"%%%"}`:            "'%%%' can not be converted to a Blob: invalid Base64",
		`{"Data":1}`:                "class java.lang.Short can not be converted to a Blob",
		`{"At":"yesterday"}`:        "Invalid timestamp: 'yesterday'",
		`{"At":true}`:               "class java.lang.Boolean can not be converted to an Date",
		`{"At":1e300}`:              "Numeric value (1e300) out of range of timestamp",
		`{"N":9223372036854775808}`: "Numeric value (9223372036854775808) out of range of long (-9223372036854775808 - 9223372036854775807)",
	} {
		if _, e := m.DecodeInput(op, nil, nil, nil, []byte(b)); e == nil || e.Type != SerializationException || e.Message != msg {
			t.Errorf("%s: %v", b, e)
		}
	}
	if got, e := m.DecodeInput(op, nil, nil, nil, []byte(`{"At":1714564800.25}`)); e != nil || fmt.Sprint(got["At"]) != "2024-05-01 12:00:00.25 +0000 UTC" {
		t.Errorf("epoch timestamp: %v %v", got, e)
	}
}
