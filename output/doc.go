// Package output encodes compositions and delivers them: RTMP(S) channels
// and HLS recordings to object storage.
package output
