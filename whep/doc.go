// Package whep lets viewers watch running compositions live over WebRTC,
// by WHEP (draft-ietf-wish-whep): POST an SDP offer to /view/{composition
// id} with a viewer token as bearer, get 201 with the answer and the
// session's Location (/view/sessions/{id}), DELETE it with the same token
// to stop.
//
// Contract:
//   - Nothing is encoded per viewer. A composition's Hub receives the
//     packets its encoder already made (H.264, Annex B, parameter sets in
//     the stream's extradata) and its audio mix encoded once to Opus
//     (by the worker, only while someone watches); both are packetized
//     to RTP once and sent to every viewer.
//   - A viewer gets a keyframe when its connection is up, and when it
//     asks by PLI/FIR: the Hub asks the encoder for an IDR, at most once
//     per keyframeEvery (a request within the limit waits for its end).
//   - Slow or lossy viewers never stall the composition: WritePacket and
//     WriteAudio never block (a bounded queue; overflow dropped, counted,
//     then a keyframe asked); lost packets are resent on NACK from a
//     short history.
//   - Viewer tokens (Tokens) are HMAC-SHA256 signed by the server's key,
//     name one composition and expire; CreateViewerToken (control) makes
//     them. Nothing is watchable without one, and nothing is buffered for
//     a request before its token is checked.
//   - Every wait is bounded (ICE and DTLS by ConnectTimeout); the Hub's
//     and viewers' goroutines end with Close.
package whep
