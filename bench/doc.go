// Package bench holds Tessera's benchmarks against what a user could pick
// instead, and of the whole server.
//
// # The compositor
//
// BenchmarkCompose/<scenario>/<impl> compares the compositor, on the same
// work in one `go test -bench` run, with an FFmpeg filter graph in-process
// (crop + scale with bilinear + xstack, single-threaded, through
// internal/av) and libyuv's I420Scale (through cgo; only in builds with
// the libyuv build tag, which make bench and make test set, so that go
// build ./... needs no libyuv: without it the libyuv peer is skipped). It
// composes one canvas per iteration from natural-looking 1280×720 I420
// participants, rotating through enough distinct frames (over 64 MB) that
// the inputs come from memory, not cache. impl is one of ffmpeg, libyuv,
// tessera (portable kernels), tessera-avx2 and tessera-avx512 (the vector
// kernel sets; they need GOEXPERIMENT=simd and a CPU that has them, else
// they are skipped) and tessera-parallel (the fastest set, one band per
// CPU). Every result is reported as ms/frame; ours also report x-ffmpeg
// and x-libyuv, how many times faster than the peers in the same run.
// After the benchmarks, the package prints the CPU (model, SIMD flags,
// kernel sets) and the comparison as a table: ms/frame, each of ours as a
// multiple of libyuv's time, and FFmpeg's time over the fastest set's.
//
// TestPeersAgree checks that every implementation draws the same picture
// (within scaler differences), so the timings compare the same work.
//
// # The whole pipeline
//
// The pipeline benchmarks measure decode + compose + mix + encode +
// destination together. Each iteration is a whole measured window, so
// run them with -benchtime 1x (more iterations average more windows):
//
//	go test ./bench -run '^$' -bench Pipeline -benchtime 1x -timeout 30m
//
// Publishers run in the benchmark's process: internal/publisher replaying
// a clip encoded once (publisher.NewClip: 4 s of the moving test picture,
// one GOP, H.264 constrained baseline, Opus tone), so that they cost the
// sending only (pub-cpu-s/s reports it) and leave the cores to the server,
// which still decodes every frame as from a live publisher.
//
// BenchmarkPipeline/<scenario> builds cmd/tessera as make build does
// (testsrv.GoBuild: GOEXPERIMENT=simd unless the environment sets one),
// starts `tessera serve` as a child process on 127.0.0.1, and drives it
// with the AWS SDK's ivs-realtime client: a stage, participant tokens,
// the publishers, an encoder configuration, a folder-bucket storage
// configuration, then per iteration StartComposition (grid layout, HLS
// recording with IVS's defaults), a warm-up (-pipeline.warmup, 3 s), a
// measured window (-pipeline.window, 10 s) and StopComposition. CPU time
// is the child's utime + stime from /proc/<pid>/stat, memory its VmRSS
// from /proc/<pid>/status (sampled every 250 ms), frames and skips from
// its /metrics. Scenarios: 720p30-6x360p (six 640×360 publishers at
// 600 kbit/s into 1280×720 at 2.5 Mbit/s) and 1080p30-12x720p (twelve
// 1280×720 publishers at 1.5 Mbit/s into 1920×1080 at 6 Mbit/s). It
// reports cpu-s/s-output (server CPU seconds per second of output: cores),
// ingest-cpu-s/s (the same with the publishers connected and no
// composition) and comp-cpu-s/s (the difference), rss-MB and comp-rss-MB (with the composition, and that
// minus without it), skipped-frames and out-fps (real time is 30 and 0),
// first-packet-ms (StartComposition call → the API reporting ACTIVE, which
// the worker does once the first canvas is encoded and handed to the
// destination) and pub-cpu-s/s. -pipeline.perf DIR also records the
// server with `perf record -g` over each window.
//
// Then, with the publishers and the server stopped, each scenario runs
// its peer and its floor with the ffmpeg command line on the publishers'
// own clip (its H.264 and Opus remuxed into Matroska), each over a window
// of the same length after the same warm-up, CPU from /proc/<pid>/stat
// and the frame rate from its -progress reports. The peer does the
// composition as a user of FFmpeg would: every input looped at its rate
// (-re -stream_loop -1) and decoded with one thread, crop + scale with
// bilinear to the tiles layout.Arrange gives + xstack, amix, libx264
// with the server's settings (Main, the same preset, zerolatency, no
// B-frames, a 2 s GOP, the VBV at the bitrate, the thread count the
// server's recording states) and AAC, 2 s HLS segments into a folder; it
// must keep real time, write the segments, and state the same x264
// options as the server's recording, or the benchmark fails. The floor
// is decoding the same live inputs to the null muxer plus encoding, with
// the same settings, the composition's own output (the peer's grid and
// mix rendered once for one loop of the clip into raw yuv4mpeg and WAV,
// looped: the same pictures, read for next to nothing), one after the
// other. ffmpeg-cpu-s/s-output, floor-cpu-s/s-output (with
// floor-decode-cpu-s/s and floor-encode-cpu-s/s) and the ratios
// tessera/ffmpeg and tessera/floor (cpu-s/s-output over each) are
// reported beside the server's figures, and printed as a table after the
// run, with the server's parts over the floor's (ingest-cpu-s/s over the
// decoding, comp-cpu-s/s over the encoding), naming what fell behind
// real time. The server's figure also pays
// for receiving WebRTC (SRTP, RTP, jitter buffers), which the command
// line, reading files, does not.
//
// BenchmarkPipelineCapacity adds 720p30 six-publisher compositions, each
// on a stage of its own with its own publishers, to one server, measuring
// a window after each, until one is not kept in real time (a skipped
// tick, under 99 % of the canvases, or ingest decoding under 97 % of the
// frames sent) or -pipeline.max is reached. It reports compositions, the
// largest count in real time, and at that count cpu-s/s-per-comp and
// rss-MB-per-comp (above the idle server, decoders included).
//
// BenchmarkPipelineLatency runs ingest and the worker in-process, as
// `tessera serve` wires them, with six live 640×360 publishers stamping
// their frame number into every picture, publishing over WHIP
// (BenchmarkPipelineLatency/whip) or over RTMP to ingest's RTMP listener
// (BenchmarkPipelineLatency/rtmp), one 1280×720 grid composition
// recording into a folder, and worker.Config.Tap on its encoder. The
// tapped H.264 is decoded, each publisher's stamp read at its tile
// (layout.Arrange and layout.Fit), and the first packet carrying a
// publisher's frame gives its latency: the packet's time out of the
// encoder minus the publisher's capture time (SentAt). It
// reports p50-ms, p95-ms and max-ms over the window, ingest-p95-ms
// (capture → decoded in ingest, from a probe on the participants'
// VideoFeeds), av-delay-ms (the worker's A/V sync delay, part of the
// latency) and first-packet-ms (worker.Start → first tapped packet).
//
// BenchmarkLiveView compares interleaved windows without and with 20 WHEP
// viewers of a 720p30 composition on `tessera serve` (-liveview.pairs,
// windows of whole clip replays, only pairs kept in real time; mean and
// 95 % interval of the CPU difference), and with perf attributes the
// server's CPU to the WHEP path by call stack (whep-cpu-s/s); it also
// reports memory per viewer.
//
// BenchmarkLiveViewLatency measures the live view glass to glass on
// `tessera serve`: four 640×360 publishers in a 1280×720 grid, the first
// live and stamping its frames, watched by headless Chromium over WHEP
// (testsrv.WatchStamps reads the stamp in every displayed frame) and by a
// Go WHEP client that decodes each frame on arrival. It reports
// g2g-p50-ms, g2g-p95-ms and g2g-max-ms (capture → expected on screen),
// recv-p50/p95-ms (capture → last packet in Chromium), whep-p50/p95-ms
// (capture → last packet at the Go client), frames-timed and
// stamps-read-% (under half is an error).
//
// These are benchmarks, not tests: nothing asserts a speed. Every server,
// publisher and child process they start is stopped in Cleanup, on
// 127.0.0.1 only, and every wait is bounded.
package bench
