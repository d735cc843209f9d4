package sigv4

import (
	"bytes"
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tessera-media/tessera/internal/testsrv"
)

// TestAWSCLI drives the verifier with the installed AWS CLI (with the
// ivs-realtime model added when the CLI predates the service).
func TestAWSCLI(t *testing.T) {
	aws, env := testsrv.AWSCLI(t)
	v := &Verifier{Credentials: map[string]string{testKey: testSecret}}
	for _, tc := range []struct {
		name                string
		secret              string
		args                []string
		method, path, query string
		wantSigned          string
		wantErr             string
	}{
		{
			name: "list-stages", secret: testSecret, args: []string{"list-stages"},
			method: "POST", path: "/ListStages", wantSigned: "host;x-amz-date",
		},
		{
			name: "tag-resource", secret: testSecret,
			args:   []string{"tag-resource", "--resource-arn", testARN, "--tags", `{"a b":"c/d","x+y":"é"}`},
			method: "POST", path: "/tags/" + escapedARN, wantSigned: "host;x-amz-date",
		},
		{
			name: "untag-resource", secret: testSecret,
			args:   []string{"untag-resource", "--resource-arn", testARN, "--tag-keys", "a b", "x+y"},
			method: "DELETE", path: "/tags/" + escapedARN, query: "tagKeys=a%20b&tagKeys=x%2By", wantSigned: "host;x-amz-date",
		},
		{
			name: "wrong secret", secret: "wrong-secret", args: []string{"list-stages"},
			method: "POST", path: "/ListStages",
			// CLI v2 adds "(reached max retries: 0)" before the colon.
			wantErr: "An error occurred (InvalidSignatureException) when calling the ListStages operation",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // each CLI run takes seconds, mostly Python start-up
			rec := newRecorder(t, v)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			args := append([]string{"ivs-realtime"}, tc.args...)
			args = append(args, "--endpoint-url", rec.URL, "--region", "us-east-1", "--output", "json")
			cmd := exec.CommandContext(ctx, aws, args...)
			cmd.Env = append(append([]string(nil), env...), "AWS_ACCESS_KEY_ID="+testKey, "AWS_SECRET_ACCESS_KEY="+tc.secret)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			runErr := cmd.Run()
			if rec.requests.Load() == 0 {
				t.Fatalf("the CLI sent nothing: %v\n%s%s", runErr, stdout.String(), stderr.String())
			}
			s := rec.next(t)
			if s.method != tc.method || s.path != tc.path || s.query != tc.query {
				t.Errorf("request %s %s?%s, want %s %s?%s", s.method, s.path, s.query, tc.method, tc.path, tc.query)
			}
			if tc.wantErr != "" {
				if runErr == nil {
					t.Fatalf("CLI succeeded, want %q", tc.wantErr)
				}
				if !strings.Contains(stderr.String(), tc.wantErr) || !strings.Contains(stderr.String(), msgSignatureInvalid) {
					t.Errorf("CLI stderr:\n%s\nwant %q", stderr.String(), tc.wantErr)
				}
				if e, _ := s.err.(*Error); e == nil || e.Type != TypeInvalidSignature {
					t.Errorf("handler: %v", s.err)
				}
				return
			}
			if runErr != nil || s.err != nil {
				t.Fatalf("CLI: %v, handler: %v\n%s%s", runErr, s.err, stdout.String(), stderr.String())
			}
			// CLI versions sign different header sets (v1: content-type;host;x-amz-date,
			// v2 adds x-amz-content-sha256); every one must include these.
			for _, h := range strings.Split(tc.wantSigned, ";") {
				if !slices.Contains(s.res.SignedHeaders, h) {
					t.Errorf("CLI signed %v, missing %s", s.res.SignedHeaders, h)
				}
			}
		})
	}
}
