package console

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// call runs an API operation in-process as the session's access key, as
// the page does through POST /console/api/{operation}, and decodes its
// answer into out. A refusal is an error carrying the API's message.
func (c *Console) call(ctx context.Context, s *session, operation string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	var rec recorder
	c.cfg.API.Invoke(ctx, &rec, s.accessKey, operation, body)
	if rec.status != http.StatusOK {
		var e struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(rec.body.Bytes(), &e)
		return &apiError{status: rec.status, operation: operation, message: e.Message}
	}
	return json.Unmarshal(rec.body.Bytes(), out)
}

// apiError is an operation's refusal as call returns it.
type apiError struct {
	status    int
	operation string
	message   string
}

func (e *apiError) Error() string { return fmt.Sprintf("%s: %s", e.operation, e.message) }

// recorder is the http.ResponseWriter call hands the API.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header {
	if r.header == nil {
		r.header = http.Header{}
	}
	return r.header
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(p)
}
