// Package av holds thin, safe wrappers around go-astiav (FFmpeg 5.1): the
// one place in Tessera that touches cgo. Everything else hands it
// media.VideoFrame values and gets media.VideoFrame values back.
//
// The contract every wrapper keeps:
//
//   - Pictures cross the boundary as I420 (AV_PIX_FMT_YUV420P, limited
//     range), the format of media.VideoFrame.
//   - Pixels are copied between Go and FFmpeg memory (CopyToAV,
//     CopyFromAV); no Go pointer is handed to FFmpeg or kept by it, so the
//     cgo pointer rules hold by construction and FFmpeg's SIMD code only
//     ever reads and writes its own padded, aligned buffers.
//   - Input is checked in Go before any C call: nil frames, sizes that do
//     not match, crops outside the picture or at odd offsets, plane slices
//     too short for their stride give an error wrapped with context
//     ("av: scale: …"), never a panic or a crash inside FFmpeg.
//   - A wrapper owns its FFmpeg objects. Close frees them, may be called
//     more than once, and the methods that do work return ErrClosed after it.
//   - Wrappers are not safe for concurrent use, and FFmpeg runs on the
//     caller's thread only: swscale with one thread, filter graphs with
//     nb_threads = 1. Parallelism, when wanted, is the caller's business
//     (one wrapper per goroutine).
//   - In the steady state (same sizes call after call) the Go heap sees no
//     allocation: FFmpeg frames are kept and reused, and only re-created
//     when a size changes.
package av
