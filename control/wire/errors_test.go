package wire

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
)

func TestWriteError(t *testing.T) {
	rec := httptest.NewRecorder()
	e := ResourceNotFound("Stage not found")
	e.Fields = map[string]any{"cacheControl": "no-store", "xAmznErrorType": "Other", "resourceId": "abc"}
	WriteError(rec, e)
	if rec.Code != 404 || rec.Header().Get("X-Amzn-ErrorType") != "ResourceNotFoundException" ||
		rec.Header().Get("Content-Type") != "application/json" || rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("%d %v", rec.Code, rec.Header())
	}
	var b map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(b, map[string]any{"message": "Stage not found", "exceptionMessage": "Stage not found", "resourceId": "abc"}) {
		t.Errorf("body %v", b)
	}

	rec = httptest.NewRecorder()
	WriteError(rec, SerializationError("bad"))
	if rec.Code != 400 || rec.Header().Get("X-Amzn-ErrorType") != "SerializationException" || rec.Body.String() != `{"message":"bad"}` {
		t.Errorf("%d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	rec = httptest.NewRecorder()
	WriteError(rec, nil)
	if rec.Code != 500 || rec.Header().Get("X-Amzn-ErrorType") != "InternalServerException" {
		t.Errorf("%d %v", rec.Code, rec.Header())
	}
	rec = httptest.NewRecorder()
	WriteError(rec, &Error{Type: "ConflictException", Message: "busy"})
	if rec.Code != 409 {
		t.Errorf("status %d", rec.Code)
	}

	rec = httptest.NewRecorder()
	WriteJSON(rec, 200, nil)
	if rec.Code != 200 || rec.Body.String() != "{}" || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	WriteJSON(rec, 200, map[string]any{"bad": make(chan int)})
	if rec.Code != 500 {
		t.Errorf("status %d", rec.Code)
	}
}

// TestThrottling: a ThrottlingException is a 429 with AWS's message, which
// the Go SDK classifies as a throttling error.
func TestThrottling(t *testing.T) {
	e := Throttling()
	w := httptest.NewRecorder()
	WriteError(w, e)
	var body map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if w.Code != http.StatusTooManyRequests || w.Header().Get("X-Amzn-Errortype") != "ThrottlingException" || body["message"] != "Rate exceeded" {
		t.Errorf("got %d %v %s", w.Code, w.Header(), w.Body)
	}
}
