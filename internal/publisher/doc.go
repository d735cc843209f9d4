// Package publisher is a synthetic participant that publishes over WHIP
// (RFC 9725), as a browser does, or over RTMP(S), as an encoder does. The
// ingest tests, the benchmarks and `make demo` use it to publish known
// pictures and sound to a Tessera server on the same machine.
//
// # Contract
//
// Start(ctx, Config) builds a pion PeerConnection with send-only tracks:
// video in Config.Codec, "h264" (H.264 constrained baseline,
// profile-level-id 42e01f, packetization-mode 1; SPS and PPS in-band on
// every keyframe) or "vp8", and Opus (48 kHz stereo, 20 ms packets). It
// gathers every ICE candidate, POSTs the offer to Config.WHIP with
// "Content-Type: application/sdp" and "Authorization: Bearer <Token>",
// wants 201 Created with an SDP answer and a Location, applies the answer
// and waits for the connection; then it starts sending. Each of these steps
// is bounded by ctx and Config.Timeout. An answer other than 201 is a
// *WHIPError carrying the status and the first line of the body; on any
// error Start leaves nothing behind (it DELETEs a session it created).
//
// The network is confined to this machine: ICE gathers UDP over IPv4 on
// 127.0.0.1 only (loopback candidates included, every other address
// filtered out, mDNS off) and ignores remote candidates other than
// 127.0.0.1, whatever the server's answer says. The HTTP requests go to
// Config.WHIP and its Location, directly (no proxy), without keep-alive.
//
// While it runs, a Publisher draws a picture every 1/FPS on a ticker and
// 20 ms of audio every 20 ms, encodes them with internal/av and writes
// them to the tracks with RTP timestamps that follow the capture clock.
// PLI and FIR from the server force a keyframe (ForceKeyframe on the
// encoder), counted in Stats. Pion's NACK responder, RTCP sender and
// receiver reports and transport-wide congestion control feedback are in
// place (webrtc.RegisterDefaultInterceptors). Config.Loss drops that
// fraction of outgoing RTP packets, audio and video, at random with a
// seeded generator, in an interceptor next to the network (so NACKed
// retransmissions can repair it, and can be lost again); Stats counts what
// it passed and dropped.
//
// ExchangeToken(ctx, token) posts a new token to the session's token
// exchange (<Location>/token, the body the new token, the bearer
// Config.Token).
//
// Close(ctx) stops the sending, DELETEs the session (bounded; with
// "Authorization: Bearer <Token>", the session's token), closes the
// PeerConnection and waits for every goroutine the Publisher started; it
// is idempotent. Done is closed when the publishing ends: Close, a failed
// connection or one the server closed, or a failed encode; Err says which
// (ErrClosed, an error wrapping ErrDisconnected, or the encode error).
// Close must be called in every case.
//
// # RTMP
//
// StartRTMP(ctx, RTMPConfig) publishes the same pictures and tone over
// RTMP or RTMPS (RTMPConfig.URL, rtmp[s]://host/app/<streamKey>; for
// rtmps:// RTMPConfig.TLS and CAFile say what to trust) with gortmplib's
// client: H.264 constrained baseline without B-frames, drawn and encoded
// live every 1/FPS, and the tone as AAC-LC, 48 kHz stereo, in real time.
// The stream starts with the metadata and both sequence headers (SPS and
// PPS from the first keyframe, the AudioSpecificConfig); every picture is
// timestamped with its capture time since the start (SentAt tells it),
// the audio on the same clock. Connecting and publishing are bounded by
// ctx and RTMPConfig.Timeout; Done and Err work as for WHIP (a server that
// refuses or ends the publish gives ErrDisconnected), and Close stops the
// sending, closes the connection and waits for every goroutine.
//
// # Pictures and sound
//
// Generator draws the pictures: a moving diagonal gradient over drifting
// colours, a bouncing orange box, Config.Name in large white letters and,
// top left, a stamp of the 32-bit frame number: a grid of 16-pixel black
// and white blocks with a CRC-8 row, which survives H.264 and VP8 coding
// and downscaling by 2–4×. ReadStamp reads it back from a received or
// composed frame, given where the picture lies in it and by how much it was
// shrunk; SentAt(n) tells when frame n was captured, so that latency can be
// measured end to end. With Config.Color set the picture is that colour
// alone, nothing drawn on it (no stamp either), for tests that check the
// colour at tile centres. The sound is a sine tone of Config.ToneHz at
// -12 dBFS on both channels, or silence at 0 Hz.
//
// # Replay
//
// NewClip encodes a few seconds of those pictures and that sound once
// (one GOP: the clip's first frame is its only keyframe); a publisher
// given Config.Clip loops the clip's packets with RTP timestamps that keep
// following the clock, instead of drawing and encoding live, and restarts
// the loop on a PLI or FIR (so the next frame is a keyframe). One clip can
// feed many publishers: a dozen 720p publishers then cost the sending
// only, not a core of x264, which matters when they run on the machine
// whose server a benchmark measures. The receiver decodes exactly what it
// would from a live publisher; the stamps count clip frames.
// Clip.WriteFiles writes one loop of an H.264 clip as files FFmpeg reads
// (Annex B H.264, Ogg Opus), so that another program can be given the
// same content.
//
// The package imports only media, internal/av, internal/h264,
// internal/glyph and internal/pionlog of Tessera, pion and gortmplib;
// logs go to Config.Logger (pion's own, one level down, under "pion").
package publisher
