// Package av holds thin, safe wrappers around go-astiav (FFmpeg 5.1): the
// one place in Tessera that touches cgo. Everything else hands it
// media.VideoFrame and media.AudioFrame values and gets media values or
// encoded Packets back, or hands it encoded access units and gets media
// values back. Where go-astiav v0.16.0 lacks an entry point (codec context
// fields, avio_open2 with options and an interrupt callback, the log
// callback), the package calls FFmpeg's C API directly.
//
// What it offers:
//
//   - Scaler (swscale) and Graph (filter graphs) on I420 pictures.
//   - VideoEncoder (libx264: H.264 Main, zerolatency, no B-frames, fixed
//     GOP, CBR-like VBV) and AudioEncoder (FFmpeg's AAC-LC, 48 kHz
//     stereo), which turn frames into Packets on the composition clock.
//     For WebRTC the same encoders make H.264 Constrained Baseline with
//     SPS and PPS in-band (VideoConfig.Codec "h264-baseline"), VP8 with
//     libvpx ("vp8") and Opus with libopus (AudioConfig.Codec "opus");
//     VideoEncoder.ForceKeyframe answers a receiver's PLI.
//   - VideoDecoder (FFmpeg's native H.264 and VP8 decoders, slice threads
//     only, no added latency) and AudioDecoder (Opus), which turn the
//     access units a WebRTC ingest reassembles into media frames taken
//     from the caller's pool. Input they cannot decode gives an error
//     wrapping ErrCorrupt, never a crash; the video decoder then waits
//     for the next keyframe.
//   - Muxer, which writes Packets as FLV or MPEG-TS to a file or to
//     rtmp(s)://, every network wait bounded by a timeout and abortable
//     from another goroutine; URLs in errors go through RedactURL.
//   - ReadPackets, which reads a media file's audio and video packets back
//     (a recording's segment, also one a crash cut short).
//   - SetLogger, which routes FFmpeg's log to a slog.Logger. Without it
//     FFmpeg writes its errors, and only those, to stderr.
//
// The contract every wrapper keeps:
//
//   - Pictures cross the boundary as I420 (AV_PIX_FMT_YUV420P, limited
//     range), the format of media.VideoFrame; the decoders convert what
//     else a stream may carry (full range, 4:2:2, 4:4:4, 10-bit).
//   - Pixels, samples and packet payloads are copied between Go and
//     FFmpeg memory (CopyToAV, CopyFromAV, the encoders' output, the
//     Muxer's and the decoders' input); no Go pointer is handed to FFmpeg
//     or kept by it, so the cgo pointer rules hold by construction and
//     FFmpeg's SIMD code only ever reads and writes its own padded,
//     aligned buffers.
//   - Input is checked in Go before any C call: nil frames, sizes that do
//     not match, crops outside the picture or at odd offsets, plane slices
//     too short for their stride give an error wrapped with context
//     ("av: scale: …"), never a panic or a crash inside FFmpeg.
//   - A wrapper owns its FFmpeg objects. Close frees them, may be called
//     more than once, and the methods that do work return ErrClosed after it.
//   - Wrappers are not safe for concurrent use (except the Muxer, whose
//     calls are serialised and whose Interrupt never waits), and FFmpeg
//     runs on the caller's thread: swscale with one thread, filter graphs
//     with nb_threads = 1, the audio codecs single-threaded. The
//     exceptions are libx264 and libvpx, which run their own worker
//     threads (VideoConfig.Threads), and the video decoders' slice
//     threads (NewVideoDecoder's threads), all inside each Encode or
//     Decode call. Parallelism beyond that is the caller's business (one
//     wrapper per goroutine). FFmpeg may log from any of those threads,
//     which is why SetLogger's handler must be safe for concurrent use.
//   - In the steady state (same sizes call after call) the Go heap sees no
//     allocation: FFmpeg frames and packets are kept and reused, and only
//     re-created when a size changes. The encoders allocate exactly one
//     thing per packet they emit: its Data, which the receiver owns. The
//     decoders allocate nothing: frames come from the caller's get
//     function, and the input is copied into FFmpeg's own packet buffer.
//   - Every wait on the network is bounded (MuxOptions.Timeout) and can be
//     cut short from another goroutine (Muxer.Interrupt, or a context).
package av
