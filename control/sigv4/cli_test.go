package sigv4

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAWSCLI drives the verifier with the installed AWS CLI. The CLI must be
// one that knows ivs-realtime: Debian 12's awscli package (2.9.19) predates
// the service (February 2023) and does not; a current aws-cli from PyPI
// (pip install awscli; 1.45.11 here) or the AWS CLI v2 installer does.
func TestAWSCLI(t *testing.T) {
	aws, err := exec.LookPath("aws")
	if err != nil {
		t.Fatal("aws not found: install an AWS CLI that knows ivs-realtime (pip install awscli, or the AWS CLI v2 installer; Debian 12's awscli 2.9.19 is too old)")
	}
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
			method: "POST", path: "/ListStages", wantSigned: "content-type;host;x-amz-date",
		},
		{
			name: "tag-resource", secret: testSecret,
			args:   []string{"tag-resource", "--resource-arn", testARN, "--tags", `{"a b":"c/d","x+y":"é"}`},
			method: "POST", path: "/tags/" + escapedARN, wantSigned: "content-type;host;x-amz-date",
		},
		{
			name: "untag-resource", secret: testSecret,
			args:   []string{"untag-resource", "--resource-arn", testARN, "--tag-keys", "a b", "x+y"},
			method: "DELETE", path: "/tags/" + escapedARN, query: "tagKeys=a%20b&tagKeys=x%2By", wantSigned: "host;x-amz-date",
		},
		{
			name: "wrong secret", secret: "wrong-secret", args: []string{"list-stages"},
			method: "POST", path: "/ListStages",
			wantErr: "An error occurred (InvalidSignatureException) when calling the ListStages operation: " + msgSignatureInvalid,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // each CLI run takes seconds, mostly Python start-up
			rec := newRecorder(t, v)
			dir := t.TempDir()
			empty := filepath.Join(dir, "empty")
			if err := os.WriteFile(empty, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			args := append([]string{"ivs-realtime"}, tc.args...)
			args = append(args, "--endpoint-url", rec.URL, "--region", "us-east-1", "--output", "json")
			cmd := exec.CommandContext(ctx, aws, args...)
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "AWS_") { // no profile, token, region or endpoint from outside
					cmd.Env = append(cmd.Env, kv)
				}
			}
			cmd.Env = append(cmd.Env,
				"AWS_ACCESS_KEY_ID="+testKey,
				"AWS_SECRET_ACCESS_KEY="+tc.secret,
				"AWS_CONFIG_FILE="+empty,
				"AWS_SHARED_CREDENTIALS_FILE="+empty,
				"AWS_EC2_METADATA_DISABLED=true",
				"AWS_MAX_ATTEMPTS=1",
				"AWS_PAGER=",
			)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			runErr := cmd.Run()
			if strings.Contains(stderr.String(), "Invalid choice") {
				t.Fatalf("%s does not know ivs-realtime (Debian 12's awscli 2.9.19 predates it; pip install awscli or use the AWS CLI v2 installer):\n%s", aws, stderr.String())
			}
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
				if !strings.Contains(stderr.String(), tc.wantErr) {
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
			if got := strings.Join(s.res.SignedHeaders, ";"); got != tc.wantSigned {
				t.Errorf("CLI signed %s, want %s", got, tc.wantSigned)
			}
			if s.header.Get("X-Amz-Content-Sha256") != "" {
				t.Errorf("CLI sent X-Amz-Content-Sha256 %q", s.header.Get("X-Amz-Content-Sha256"))
			}
		})
	}
}
