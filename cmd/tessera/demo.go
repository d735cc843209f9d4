package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"

	"github.com/tessera-media/tessera/internal/publisher"
)

// demoChannel is the channel ARN the demo registers for --rtmp.
const demoChannel = "arn:aws:ivs:us-east-1:123456789012:channel/DemoChannel1"

// demo starts a server, publishes four synthetic participants (moving
// pictures with their names and a tone each; "carol" featured), starts a
// grid composition recording HLS into the data directory (and pushing to
// --rtmp if given) and prints where the playlist is.
func demo(args []string) error {
	fs := newFlagSet("tessera demo")
	data := fs.String("data", "./data/demo", "data directory of the demo server (the recording lands under <data>/buckets/demo)")
	rtmp := fs.String("rtmp", "", "also push the composition to this rtmp[s]://host/app/streamkey URL")
	var duration time.Duration
	durationVar(fs, &duration, "duration", 0, "stop after recording this long, counted from the composition's first output (0: run until Ctrl-C)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	serveArgs := []string{"--listen", "127.0.0.1:0", "--rtmp-listen", "", "--rtmps-listen", "", "--data", *data, "--log-level", "warn"}
	if *rtmp != "" {
		serveArgs = append(serveArgs, "--channel", demoChannel+"="+*rtmp)
	}
	s, _, err := parseSettings(serveArgs, func(string) string { return "" })
	if err != nil {
		return err
	}
	ctx, cancel := signalContext()
	defer cancel()
	ready, served := make(chan string, 1), make(chan error, 1)
	srvCtx, stopServer := context.WithCancel(context.Background())
	go func() { served <- serve(srvCtx, s, ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-served:
		stopServer()
		return err
	}
	url := "http://" + addr
	fmt.Printf("demo server on %s (AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s)\n", url, DevAccessKeyID, DevSecretAccessKey)
	err = runDemo(ctx, url, *data, *rtmp != "", duration)
	stopServer()
	if serr := <-served; err == nil {
		err = serr
	}
	return err
}

func runDemo(ctx context.Context, url, data string, rtmp bool, duration time.Duration) error {
	c := ivsrealtime.New(ivsrealtime.Options{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider(DevAccessKeyID, DevSecretAccessKey, "")})
	st, err := c.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String("demo")})
	if err != nil {
		return err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for i, name := range []string{"alice", "bob", "carol", "dave"} {
		attrs := map[string]string{}
		if name == "carol" {
			attrs["featured"] = "true"
		}
		tok, err := c.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{StageArn: st.Stage.Arn, UserId: aws.String(name), Attributes: attrs})
		if err != nil {
			return err
		}
		pctx, pcancel := context.WithTimeout(ctx, 20*time.Second)
		p, err := publisher.Start(pctx, publisher.Config{WHIP: *st.Stage.Endpoints.Whip, Token: *tok.ParticipantToken.Token,
			Name: name, Width: 640, Height: 360, Bitrate: 800_000, ToneHz: 220 * float64(i+2), Logger: quiet})
		pcancel()
		if err != nil {
			return fmt.Errorf("publishing %s: %w", name, err)
		}
		defer p.Close(context.Background())
		fmt.Printf("publishing %s\n", name)
	}
	enc, err := c.CreateEncoderConfiguration(ctx, &ivsrealtime.CreateEncoderConfigurationInput{Name: aws.String("demo")})
	if err != nil {
		return err
	}
	sc, err := c.CreateStorageConfiguration(ctx, &ivsrealtime.CreateStorageConfigurationInput{S3: &types.S3StorageConfiguration{BucketName: aws.String("demo")}})
	if err != nil {
		return err
	}
	dests := []types.DestinationConfiguration{{S3: &types.S3DestinationConfiguration{
		StorageConfigurationArn: sc.StorageConfiguration.Arn, EncoderConfigurationArns: []string{*enc.EncoderConfiguration.Arn}}}}
	if rtmp {
		dests = append(dests, types.DestinationConfiguration{Channel: &types.ChannelDestinationConfiguration{
			ChannelArn: aws.String(demoChannel), EncoderConfigurationArn: enc.EncoderConfiguration.Arn}})
	}
	comp, err := c.StartComposition(ctx, &ivsrealtime.StartCompositionInput{StageArn: st.Stage.Arn, Destinations: dests,
		Layout: &types.LayoutConfiguration{Grid: &types.GridConfiguration{FeaturedParticipantAttribute: aws.String("featured")}}})
	if err != nil {
		return err
	}
	var prefix string
	for _, d := range comp.Composition.Destinations {
		if d.Detail != nil && d.Detail.S3 != nil {
			prefix = *d.Detail.S3.RecordingPrefix
		}
	}
	dir := filepath.Join(data, "buckets", "demo", prefix, "media", "hls")
	fmt.Printf("composition %s started\nrecording into %s (play the playlist.m3u8 under it with ffplay or VLC)\n", *comp.Composition.Arn, dir)
	if duration > 0 {
		if err := awaitActive(ctx, c, comp.Composition.Arn); err != nil {
			return err
		}
		var c2 context.CancelFunc
		ctx, c2 = context.WithTimeout(ctx, duration)
		defer c2()
	}
	<-ctx.Done()
	fmt.Println("stopping the composition")
	sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer scancel()
	if _, err := c.StopComposition(sctx, &ivsrealtime.StopCompositionInput{Arn: comp.Composition.Arn}); err != nil {
		return err
	}
	for {
		g, err := c.GetComposition(sctx, &ivsrealtime.GetCompositionInput{Arn: comp.Composition.Arn})
		if err != nil {
			return err
		}
		if g.Composition.State == types.CompositionStateStopped || g.Composition.State == types.CompositionStateFailed {
			fmt.Printf("composition %s; recording complete under %s\n", g.Composition.State, dir)
			if g.Composition.State == types.CompositionStateFailed {
				return errors.New("the composition failed")
			}
			return nil
		}
		select {
		case <-sctx.Done():
			return sctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// awaitActive waits (at most a minute) until the composition's output
// flows; an interrupt ends the wait early without an error.
func awaitActive(ctx context.Context, c *ivsrealtime.Client, arn *string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		g, err := c.GetComposition(ctx, &ivsrealtime.GetCompositionInput{Arn: arn})
		switch {
		case err != nil && ctx.Err() != nil:
			return nil
		case err != nil:
			return err
		case g.Composition.State == types.CompositionStateActive:
			return nil
		case g.Composition.State != types.CompositionStateStarting:
			return fmt.Errorf("the composition is %s", g.Composition.State)
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return errors.New("the composition produced no output within a minute")
			}
			return nil
		case <-time.After(100 * time.Millisecond):
		}
	}
}
