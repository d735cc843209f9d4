// Package output encodes compositions and delivers them: RTMP(S) channels
// and HLS recordings to object storage, through a durable upload spool. A
// recording keeps a manifest and a journal in its work folder, from which
// RecoverRecording finalizes it after a crash.
package output
