// Command killable publishes one synthetic participant (internal/publisher:
// a moving picture with its frame stamp, no audio) to the WHIP endpoint in
// $WHIP with the token in $TOKEN, prints "publishing" once connected and
// publishes until it is killed. Tests run it as its own process so that
// they can kill it abruptly (SIGKILL): no DELETE, no DTLS close, nothing
// (see testsrv.KillablePublisher).
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/tessera-media/tessera/internal/publisher"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := publisher.Start(ctx, publisher.Config{WHIP: os.Getenv("WHIP"), Token: os.Getenv("TOKEN"), Name: "flapping",
		NoAudio: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("publishing")
	select {}
}
