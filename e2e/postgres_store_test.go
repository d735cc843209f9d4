package e2e

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"

	"github.com/tessera-media/tessera/internal/testsrv"
)

// tessera serve keeps its resources in PostgreSQL with TESSERA_STORE: a
// stage created through one server is there for the next one started on
// another data directory, and a second server on the same store while the
// first runs is refused with a clear error.
func TestPostgresStore(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pg := testsrv.StartPostgres(t)
	url, err := pg.CreateDatabase()
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"TESSERA_STORE=" + url}
	first := startServer(t, t.TempDir(), env)
	stage, err := first.API.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String("in-postgres"),
		Tags: map[string]string{"team": "video"}})
	if err != nil {
		t.Fatal(err)
	}

	// A second server on the same store is refused while the first runs.
	second := exec.CommandContext(ctx, tesseraBin, "serve", "--listen", "127.0.0.1:0", "--rtmp-listen", "127.0.0.1:0",
		"--rtmps-listen", "127.0.0.1:0", "--data", t.TempDir())
	second.Env = append(os.Environ(), env...)
	out, err := second.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "one tessera serve per store") {
		t.Errorf("a second server on the store: %v\n%s", err, out)
	} else {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		t.Logf("a second server on the store: %v: %s", err, lines[len(lines)-1])
	}

	if err := first.stop(t); err != nil {
		t.Fatalf("the first server's exit: %v", err)
	}
	third := startServer(t, t.TempDir(), env)
	got, err := third.API.GetStage(ctx, &ivsrealtime.GetStageInput{Arn: stage.Stage.Arn})
	if err != nil || aws.ToString(got.Stage.Name) != "in-postgres" || got.Stage.Tags["team"] != "video" {
		t.Errorf("the stage through a server on another data directory: %v %+v", err, got)
	}
	list, err := third.API.ListStages(ctx, &ivsrealtime.ListStagesInput{})
	if err != nil || len(list.Stages) != 1 {
		t.Errorf("ListStages: %v %+v", err, list)
	}
}
