// Package av holds thin, safe wrappers around go-astiav (FFmpeg 5.1): the
// one place in Tessera that touches cgo. Everything else hands it
// media.VideoFrame and media.AudioFrame values and gets media values or
// encoded Packets back. Where go-astiav v0.16.0 lacks an entry point
// (codec context fields, avio_open2 with options and an interrupt
// callback), the package calls FFmpeg's C API directly.
//
// What it offers:
//
//   - Scaler (swscale) and Graph (filter graphs) on I420 pictures.
//   - VideoEncoder (libx264: H.264 High, zerolatency, no B-frames, fixed
//     GOP, CBR-like VBV) and AudioEncoder (FFmpeg's AAC-LC, 48 kHz
//     stereo), which turn frames into Packets on the composition clock.
//   - Muxer, which writes Packets as FLV or MPEG-TS to a file or to
//     rtmp(s)://, every network wait bounded by a timeout and abortable
//     from another goroutine; URLs in errors go through RedactURL.
//
// The contract every wrapper keeps:
//
//   - Pictures cross the boundary as I420 (AV_PIX_FMT_YUV420P, limited
//     range), the format of media.VideoFrame.
//   - Pixels, samples and packet payloads are copied between Go and
//     FFmpeg memory (CopyToAV, CopyFromAV, the encoders' output, the
//     Muxer's input); no Go pointer is handed to FFmpeg or kept by it, so
//     the cgo pointer rules hold by construction and FFmpeg's SIMD code
//     only ever reads and writes its own padded, aligned buffers.
//   - Input is checked in Go before any C call: nil frames, sizes that do
//     not match, crops outside the picture or at odd offsets, plane slices
//     too short for their stride give an error wrapped with context
//     ("av: scale: …"), never a panic or a crash inside FFmpeg.
//   - A wrapper owns its FFmpeg objects. Close frees them, may be called
//     more than once, and the methods that do work return ErrClosed after it.
//   - Wrappers are not safe for concurrent use (except the Muxer, whose
//     calls are serialised and whose Interrupt never waits), and FFmpeg
//     runs on the caller's thread: swscale with one
//     thread, filter graphs with nb_threads = 1, the AAC encoder
//     single-threaded. The one exception is libx264, which runs its own
//     worker threads (VideoConfig.Threads) inside each Encode call.
//     Parallelism beyond that is the caller's business (one wrapper per
//     goroutine).
//   - In the steady state (same sizes call after call) the Go heap sees no
//     allocation: FFmpeg frames and packets are kept and reused, and only
//     re-created when a size changes. The encoders allocate exactly one
//     thing per packet they emit: its Data, which the receiver owns.
//   - Every wait on the network is bounded (MuxOptions.Timeout) and can be
//     cut short from another goroutine (Muxer.Interrupt, or a context).
package av
