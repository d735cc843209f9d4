// Package testsrv starts the real servers and runs the real tools that
// Tessera's tests talk to: nginx with the RTMP module (RTMP, and RTMPS
// through nginx's stream TLS proxy) that records what is pushed to it,
// versitygw (an S3 server that checks SigV4 signatures), ffprobe,
// headless Chromium publishing WebRTC by WHIP from a page it serves, and
// headless Chromium playing HLS recordings with hls.js. It is
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
//     libnginx-mod-rtmp, libnginx-mod-stream, ffmpeg and chromium.
//     versitygw is not packaged: it is built from the Go module proxy,
//     pinned at VersityGWVersion, once into the user's cache directory
//     (os.UserCacheDir()/tessera-testbin) and reused from there. hls.js
//     is the copy the binary vendors (internal/hlsjs): nothing is
//     downloaded for it.
//   - With -short (make unit), StartRTMP, StartVersityGW, StartChromium
//     (and so WHIPPage.Publish), StartHLSPlayer and AWSCLI skip the test
//     instead of starting anything: the short run needs no server, browser or AWS
//     CLI. ffprobe and ffmpeg, which make deps-build installs with the
//     FFmpeg libraries, run in both modes.
//   - The functions that take a testing.TB, and the methods Restart,
//     CreateBucket and WHIPPage.URL, report failures with t.Fatal, so they
//     must be called from the test's own goroutine. PushTestPattern,
//     ProbeFile, SignV4, S3.Do, Stop, Recordings, the WHIPPage waits,
//     Reports and Unpublish, and the getters return errors or nothing and
//     may be called from any goroutine.
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
//
// # WHIP publishers in headless Chromium
//
// StartWHIPPage serves, on 127.0.0.1, a page that publishes by WHIP
// (RFC 9725) as its URL says (WHIPPage.URL of a PublishParams): the fake
// camera, or a canvas of one colour, in VP8 or H.264 (the only video
// codec offered), optionally in simulcast (rids q, h, f) and with audio.
// It creates the offer, waits for ICE gathering (5 s at most), POSTs it
// with the Bearer token, applies the answer, and reports each step to the
// page server, then the getStats summary every second: WaitStatus waits
// for "connected", and fails at once, with the HTTP status and the
// server's text, when the POST is refused. Unpublish makes the page send
// DELETE to the session's Location. StartChromium (or WHIPPage.Publish,
// whose waits also notice the browser exiting) runs the page in headless
// Chromium; start one per publisher, several may run at once.
//
// Loopback only: the page removes every ICE candidate that is not on
// 127.0.0.1 from the offer it sends (Chromium also gathers on the
// machine's other interfaces, and sends its checks from them to the
// answer's candidates only), Chromium runs without mDNS candidates,
// background requests or DNS. A WHIP server under test should offer
// candidates on 127.0.0.1 only; the one in chromium_test.go with pion
// also drops packets from any other address, so that it never answers
// Chromium's checks from another interface.
//
// Chromium runs with web security off, so the WHIP server, on another
// port than the page, need not answer CORS preflights (nor do these tests
// check that it does). Debian's Chromium encodes H.264 with OpenH264
// (encoderImplementation "OpenH264"), VP8 with libvpx. It runs in PID and
// mount namespaces of its own (unshare(1), when allowed, as root), so
// that all its processes are gone, reaped, once Stop returns.
//
// # HLS playback in hls.js
//
// StartHLSPlayer serves a directory of recordings on 127.0.0.1 with hls.js
// and a player page; HLSPlayer.Play plays one playlist of it in headless
// Chromium, muted, at 8× by default, and returns what the page saw
// (PlayResult): hls.js's errors, the levels, the codecs buffered, the
// duration, size and frames of the video, how far it played and whether
// it ended, the fragments loaded and played and the discontinuities
// crossed. Debian's Chromium decodes H.264 (High included) and AAC
// through MediaSource, so hls.js plays fMP4 and MPEG-TS segments. A play
// ends when the video ends, on a fatal error, or after 10 s without
// progress (Stalled); Play waits at most the duration at the rate plus
// 30 s. hls.js 1.7.4 does not end a stream whose buffer has a hole: with
// B-frames, the media after an EXT-X-DISCONTINUITY starts about 0.1 s
// after the media before it ends, and playback stalls at the last frames
// (TestHLSPlayerDiscontinuityBFrames).
//
// # Screenshots
//
// Screenshot captures a page in a headless Chromium of its own once a
// JavaScript condition holds in it. It drives the browser over the
// DevTools protocol on a pipe (--remote-debugging-pipe), so no port is
// opened, and the page runs in real time: a playing video shows, which
// Chromium's own --screenshot (on virtual time) leaves black.
package testsrv
