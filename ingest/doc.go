// Package ingest is where participants' media enters Tessera: a WHIP
// endpoint (RFC 9725) and RTMP(S) listeners ([Server.ServeRTMP]) whose
// publishers become participants of a stage, with their pictures and sound
// decoded and timed on one server clock.
//
// A [Server] binds one UDP port that every WebRTC session shares and
// serves WHIP ([Server.Handler]: POST an offer with a participant token,
// DELETE the session, POST a new token to exchange attributes). The control
// plane opens a [Stage] per stage ([Server.OpenStage]) and closes it when
// the stage is deleted; a publisher whose token does not name an open stage,
// is expired, revoked, lacks PUBLISH or is signed by another key is refused
// with 401/403 and a reason before its offer is read and before any media
// state is created. Tokens are signed with the server's key (Config.Key)
// or, as IVS lets applications sign their own, with the private half of an
// imported public key ([Server.PublicKeys], filled by the control plane):
// the JWT header's kid is the key's ARN, and such a self-signed token must
// carry IVS's claims (jti, resource, topic, whip_url, iat, exp, version
// "1.0"; user_id, attributes, capabilities, events_url) within IVS's limits
// (a lifetime of at most 14 days, jti of at most 64 [A-Za-z0-9_-], topic
// the stage id). A session that joined with a self-signed token exchanges
// it only for another self-signed token with the same jti, topic,
// resource, whip_url and events_url; one without PUBLISH ends the session. A session's URL carries 128 random bits; ending it or
// exchanging its token takes the session's own bearer token (401 without,
// 403 with another), and logs name a session by its first 8 hex digits
// only. At most Config.MaxSessions sessions are held at once, at most
// Config.MaxHalfOpen of them not yet connected (each for at most
// Config.ConnectTimeout); an offer over a cap is answered 503 with
// Retry-After, and counted.
//
// Per participant, every track goes RTP → jitter buffer (frames emitted the
// moment they are complete; a missing packet is waited for only up to
// Config.JitterWait, then the frame is dropped and a keyframe asked for) →
// bitstream inspection (B-frames and oversize pictures refused with IVS's
// error codes) → FFmpeg decoding. Pictures land in the participant's
// [VideoFeed]: a reference-counted ring of recent pictures from which any
// number of readers take the newest picture captured at or before a time,
// without copying and without ever waiting for the decoder. Audio is
// decoded to 48 kHz float and fanned out to bounded per-reader queues
// ([Participant.SubscribeAudio]). Capture times come from the senders' RTCP
// reports, mapped onto [Server.Now], so participants line up as captured.
//
// A participant that publishes again keeps its place in the stage's
// arrival order, which grids follow: its new session replaces a session
// still up in place, and one that ended less than Config.ReconnectWindow
// ago hands on its arrival. A publisher that vanishes without a word (no
// more RTP) has its video marked stopped after Config.StaleAfter, so
// compositions draw its placeholder rather than its last picture, and its
// session ends when ICE fails.
//
// An RTMP(S) publisher names an ingest configuration by its stream key
// ([IngestKeys], kept by the control plane) and becomes that
// configuration's participant (fixed participant id, user id, attributes;
// protocol RTMP or RTMPS): H.264 without B-frames and AAC, both required,
// decoded like WHIP media; refusals carry IVS's PUBLISH_ERROR codes
// (INVALID_PROTOCOL, REUSE_OF_STREAM_KEY, B_FRAME_PRESENT, …). Before its
// stream key is accepted a connection may send at most 64 KiB within
// Config.RTMPHandshakeTimeout, and at most Config.RTMPMaxPending such
// connections are held. Deleting or detaching a configuration ends its
// publish before IngestKeys.Set or Delete return. Readers of a
// participant's access units before decoding ([Participant.SubscribeVideoPackets])
// get them from a keyframe on, for recordings that do not re-encode.
//
// Malformed media is dropped and counted, never fatal; every network wait
// (ICE, DTLS, connect, jitter) is bounded; every session has an owner that
// ends it on leave, disconnect, token revocation or Close. The stage's
// roster ([Stage.Roster], change notifications through [Stage.Watch]) and
// its participant events ([Event], JOINED … LEFT, with IVS's names) are what
// the layers above see.
package ingest
