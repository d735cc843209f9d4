// Package e2e tests Tessera end to end, with nothing replaced: the tessera
// binary runs as a separate process, the ivs-realtime API is driven through
// the AWS SDK for Go v2, headless Chromium and Go WHIP clients publish to a
// stage, nginx-rtmp receives the channel over RTMPS (and is read back with
// FFmpeg), and versitygw receives the HLS recording over the S3 API. Every
// server listens on 127.0.0.1 only and is stopped by the test.
//
// The package holds tests only.
package e2e
