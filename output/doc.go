// Package output encodes compositions and delivers them: RTMP(S) channels
// and HLS recordings to object storage, through a durable upload spool. A
// recording cuts its segments on keyframes, as MPEG-TS (compositions, the
// default) or fragmented MP4 (an init segment behind #EXT-X-MAP, then
// segments of whole fragments), keeps a manifest and a journal in its work
// folder, and lists in its playlists only segments already stored;
// RecoverRecording finalizes one a crash interrupted.
package output
