package console

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
)

// An operation through the console answers what the signed API answers:
// the same status, error type and body bytes.
func TestInvokeMatchesSignedAPI(t *testing.T) {
	e := startEnv(t, Config{})
	b := e.browser(t).mustSignIn()
	// same compares the answers, with the console's new ARN (if any)
	// written as the API's.
	same := func(what, operation, body string) []byte {
		t.Helper()
		code, h, got := b.do("POST", "/console/api/"+operation, []byte(body))
		wantCode, wantH, want := e.signed(t, operation, body)
		if a, b := newARN(got), newARN(want); a != "" {
			got = bytes.ReplaceAll(got, []byte(a), []byte(b))
		}
		if code != wantCode || h.Get("X-Amzn-Errortype") != wantH.Get("X-Amzn-Errortype") || !bytes.Equal(got, want) {
			t.Errorf("%s: console %d %q %s\nAPI %d %q %s", what, code, h.Get("X-Amzn-Errortype"), got, wantCode, wantH.Get("X-Amzn-Errortype"), want)
		}
		if h.Get("X-Amzn-Requestid") == "" {
			t.Errorf("%s: no request id", what)
		}
		return got
	}
	created := same("CreateStage", "CreateStage", `{"name":"console"}`)
	var out struct{ Stage struct{ Arn string } }
	if err := json.Unmarshal(created, &out); err != nil || out.Stage.Arn == "" {
		t.Fatalf("CreateStage answered %s", created)
	}
	same("GetStage", "GetStage", `{"arn":"`+out.Stage.Arn+`"}`)
	same("ListStages", "ListStages", `{}`)
	same("validation error", "CreateStage", `{"name":"not a name!","tags":{"":"x"}}`)
	same("serialization error", "CreateStage", `{"name":5}`)
	same("not found", "GetStage", `{"arn":"arn:aws:ivs:us-east-1:123456789012:stage/AbCdEfGhIjKl"}`)
	same("malformed body", "ListStages", `{`)
}

// Operations bound to other paths than POST /<Name> (the tag operations)
// and names the model does not have are UnknownOperationException.
func TestInvokeRefusesOtherBindings(t *testing.T) {
	e := startEnv(t, Config{})
	b := e.browser(t).mustSignIn()
	for _, op := range []string{"TagResource", "UntagResource", "ListTagsForResource", "NoSuchOperation", "createstage"} {
		code, h, body := b.do("POST", "/console/api/"+op, map[string]any{})
		if code != http.StatusNotFound || h.Get("X-Amzn-Errortype") != "UnknownOperationException" {
			t.Errorf("%s: %d %q %s, want 404 UnknownOperationException", op, code, h.Get("X-Amzn-Errortype"), body)
		}
	}
}

// newARN is the ARN of the stage a CreateStage answer made ("" for other
// answers).
func newARN(body []byte) string {
	var out struct{ Stage *struct{ Arn string } }
	if json.Unmarshal(body, &out) != nil || out.Stage == nil || !bytes.Contains(body, []byte(`"participantTokens"`)) {
		return ""
	}
	return out.Stage.Arn
}
