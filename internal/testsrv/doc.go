// Package testsrv starts the real servers and runs the real tools that
// Tessera's tests talk to: nginx with the RTMP module (RTMP, and RTMPS
// through nginx's stream TLS proxy) that records what is pushed to it,
// versitygw (an S3 server that checks SigV4 signatures) and ffprobe. It is
// for tests only (internal/archtest lets only _test.go files import it) and
// imports no package of Tessera's.
//
// The contract every helper keeps:
//
//   - Servers listen on 127.0.0.1 only, never on another address, on free
//     ports picked when they start. Restart brings a stopped server back on
//     the same ports, so a client can be shown an outage and a recovery.
//   - Everything a server writes (configuration, certificate, logs,
//     recordings, objects unless the caller names the directory) lives in
//     the test's t.TempDir().
//   - Every wait is bounded: a server that does not accept connections
//     within a few seconds, a tool that does not finish within its timeout,
//     fails the test instead of hanging it.
//   - Servers are stopped by t.Cleanup; Stop may be called earlier, and
//     more than once. When a test fails, the server's log is written to
//     the test log.
//   - A missing binary fails the test (it does not skip it; PushTestPattern
//     and ProbeFile return the error) with a message
//     naming the Debian package: `make deps` installs nginx,
//     libnginx-mod-rtmp, libnginx-mod-stream and ffmpeg. versitygw is not
//     packaged: it is built from the Go module proxy, pinned at
//     VersityGWVersion, once into the user's cache directory
//     (os.UserCacheDir()/tessera-testbin) and reused from there.
//   - The functions that take a testing.TB, and the methods Restart and
//     CreateBucket, report failures with t.Fatal, so they must be called
//     from the test's own goroutine. PushTestPattern, ProbeFile, SignV4,
//     S3.Do, Stop, Recordings and the getters return errors or nothing
//     and may be called from any goroutine.
//
// # RTMPS and the self-signed certificate
//
// The RTMPS listener presents a self-signed ECDSA certificate made for the
// server (SAN IP 127.0.0.1 and DNS localhost), written to CertFile.
// FFmpeg's tls protocol (FFmpeg 5.1, built with GnuTLS on Debian 12)
// does not verify the peer unless asked to: its tls_verify option defaults
// to 0. So an FFmpeg client, the ffmpeg CLI or one going through
// go-astiav, accepts the certificate with no option at all:
//
//	ffmpeg ... -f flv rtmps://127.0.0.1:PORT/live/key
//
// A client that does want verification passes tls_verify=1 and
// ca_file=CertFile() as protocol options (the rtmp protocol hands its
// options down to tls): `-tls_verify 1 -ca_file cert.pem` as output
// options on the command line, or the same keys in the AVDictionary of
// avio_open2, or of FormatContext.OpenInput for a player. go-astiav
// v0.16's OpenIOContext calls avio_open, which takes no options, so an
// output opened through it always runs with FFmpeg's default and accepts
// the certificate. With tls_verify=1 and no ca_file, GnuTLS checks against
// the system's trust store and refuses the connection; the tests check
// both.
package testsrv
