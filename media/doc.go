// Package media is the small vocabulary shared by the pipeline stages:
// decoded video frames (VideoFrame, I420), decoded audio (AudioFrame, 48 kHz
// float PCM), the colour type of the canvas (YUV) and pools that let the
// steady state run without allocating.
//
// It imports nothing else of Tessera. Frames are plain data: whoever holds a
// frame owns it until it hands it on or puts it back into its pool; nothing
// here locks.
package media
