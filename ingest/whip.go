package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Handler returns the WHIP endpoint (RFC 9725), to be mounted at the root
// of the server's HTTP mux:
//
//	POST   /whip              publish; the stage is the token's
//	POST   /whip/{stageId}    publish to that stage; the token must be for it
//	DELETE /whip/sessions/{id}         end the session (the Location of a POST)
//	POST   /whip/sessions/{id}/token   token exchange: the new token as the body;
//	                                   new attributes, same participant
//	PATCH  /whip/sessions/{id}         405: no trickle ICE, offers carry their candidates
//	OPTIONS any of them                CORS preflight
//
// Every request but OPTIONS carries a bearer token, as RFC 9725 has it: a
// publish, a participant token allowing it, verified before the offer is
// read; a request to a session, one of the session's tokens (the one it
// was created with, or the latest exchanged onto it): missing is 401 with
// WWW-Authenticate, another is 403. An offer over a session cap
// (Config.MaxSessions, Config.MaxHalfOpen) is 503 with Retry-After. Every
// refusal has a one-line text/plain reason.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /whip", s.publish)
	mux.HandleFunc("POST /whip/{stage}", s.publish)
	mux.HandleFunc("DELETE /whip/sessions/{id}", s.deleteSession)
	mux.HandleFunc("POST /whip/sessions/{id}/token", s.exchangeToken)
	mux.HandleFunc("PATCH /whip/sessions/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", "DELETE, OPTIONS")
		refuse(w, http.StatusMethodNotAllowed, "trickle ICE and ICE restarts are not supported; send all candidates in the offer")
	})
	mux.HandleFunc("OPTIONS /whip", preflight)
	mux.HandleFunc("OPTIONS /whip/", preflight)
	return cors(s.counted(mux))
}

// cors adds the headers browsers need to publish from another origin.
func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Methods", "POST, DELETE, PATCH, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match")
		h.Set("Access-Control-Expose-Headers", "Location, ETag, Link, Accept-Post")
		next.ServeHTTP(w, r)
	})
}

func preflight(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Accept-Post", "application/sdp")
	w.Header().Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap gives http.ResponseController the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// refusedBodyWait is how long the body of a request refused before
// authentication may keep arriving.
const refusedBodyWait = time.Second

// dropBody is for a request refused before its body was read: the server
// drains (never buffers) what arrives of it within refusedBodyWait, so that
// the client can read the refusal, and then closes the connection rather
// than wait for a body that is late or never comes.
func dropBody(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength != 0 {
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(refusedBodyWait))
	}
}

func (s *Server) counted(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		s.metrics.requests.WithLabelValues(r.Method, strconv.Itoa(sw.status)).Inc()
	})
}

// refuse writes a one-line reason.
func refuse(w http.ResponseWriter, status int, reason string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	fmt.Fprintln(w, reason)
}

// refuseToken answers a refused token, with WWW-Authenticate on a 401.
func refuseToken(w http.ResponseWriter, te *TokenError) {
	if te.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="tessera"`)
	}
	refuse(w, te.Status, te.Reason)
}

// route asks Config.Route where the stage is served: "" here, else the
// WHIP URL of its server. Its error is a 503 TokenError.
func (s *Server) route(ctx context.Context, stageARN, protocol string) (string, error) {
	if s.cfg.Route == nil {
		return "", nil
	}
	where, err := s.cfg.Route(ctx, stageARN, protocol)
	if err != nil {
		s.log.Warn("no server for the stage", "stage", stageARN, "err", err)
		return "", &TokenError{Status: http.StatusServiceUnavailable, Reason: err.Error()}
	}
	return where, nil
}

// verify checks a token's signature (the server's key or an imported
// public key) and claims.
func (s *Server) verify(token string) (Claims, error) {
	return verifyToken(token, s.cfg.Key, &s.keys, time.Now(), s.cfg.TokenSkew)
}

// admit checks verified claims for publishing to stageID (when not empty)
// and returns the open stage.
func (s *Server) admit(c Claims, stageID string) (*Stage, error) {
	if stageID != "" && stageID != c.Topic && !strings.HasSuffix(c.StageARN, "/"+stageID) {
		return nil, forbidden("token is for another stage")
	}
	st := s.Stage(c.StageARN)
	if st == nil {
		return nil, forbidden("stage does not exist")
	}
	if !c.Capabilities.AllowPublish {
		st.event(EventPublishError, c.ParticipantID, ErrorInsufficientCapabilties)
		return nil, forbidden("token does not allow publishing (no PUBLISH capability)")
	}
	if st.Revoked(c.ParticipantID) {
		return nil, forbidden("participant was disconnected from the stage")
	}
	return st, nil
}

// publish answers an offer. The token is verified before anything of the
// body is read; the body is bounded by MaxBodyBytes; the session is
// admitted against the caps before it joins its stage.
func (s *Server) publish(w http.ResponseWriter, r *http.Request) {
	token := bearer(r.Header.Get("Authorization"))
	claims, err := s.verify(token)
	if err == nil && claims.Capabilities.AllowPublish { // else admit refuses it here
		var where string
		if where, err = s.route(r.Context(), claims.StageARN, "WHIP"); where != "" {
			// Another server serves the stage: the offer goes there
			// (RFC 9725 §4.5), before its body is read.
			s.metrics.redirected.Inc()
			dropBody(w, r)
			if stage := r.PathValue("stage"); stage != "" {
				where += "/" + url.PathEscape(stage)
			}
			w.Header().Set("Location", where)
			w.WriteHeader(http.StatusTemporaryRedirect)
			return
		}
	}
	var st *Stage
	if err == nil {
		st, err = s.admit(claims, r.PathValue("stage"))
	}
	var te *TokenError
	if errors.As(err, &te) {
		s.log.Info("WHIP publish refused", "status", te.Status, "reason", te.Reason)
		dropBody(w, r)
		refuseToken(w, te)
		return
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/sdp" {
		refuse(w, http.StatusUnsupportedMediaType, "Content-Type must be application/sdp")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			refuse(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("SDP offer larger than %d bytes", s.cfg.MaxBodyBytes))
			return
		}
		refuse(w, http.StatusBadRequest, "reading the offer: "+err.Error())
		return
	}
	if status, reason := checkOffer(body); status != 0 {
		switch status {
		case http.StatusNotAcceptable:
			code := ErrorInvalidVideoCodec
			if strings.Contains(reason, "audio") {
				code = ErrorInvalidAudioCodec
			}
			st.event(EventPublishError, claims.ParticipantID, code)
		}
		refuse(w, status, reason)
		return
	}

	log := s.log.With("stage", st.arn, "participant", claims.ParticipantID)
	sess := &session{
		id: newSessionID(), participantID: claims.ParticipantID, srv: s, stage: st,
		tokens: newSessionTokens(token), claims: claims, done: make(chan struct{}), quit: make(chan struct{}),
	}
	sess.log = log.With("session", logID(sess.id))
	if over := s.caps.admit(sess); over != nil {
		w.Header().Set("Retry-After", strconv.Itoa(over.retryAfter))
		refuse(w, http.StatusServiceUnavailable, over.reason)
		return
	}
	p, err := st.join(sess, joining{userID: claims.UserID, attributes: claims.Attributes, protocol: "WHIP"})
	if err != nil {
		s.caps.release(sess)
		if errors.Is(err, errStageFull) {
			st.event(EventJoinError, claims.ParticipantID, ErrorQuotaExceeded)
			refuse(w, http.StatusForbidden, fmt.Sprintf("stage is full: at most %d publishers", st.opts.MaxPublishers))
			return
		}
		refuse(w, http.StatusForbidden, "stage closed")
		return
	}
	sess.p = p
	pc, err := s.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		st.leave(sess)
		s.caps.release(sess)
		log.Error("creating peer connection", "err", err)
		refuse(w, http.StatusInternalServerError, "creating the peer connection failed")
		return
	}
	sess.pc = pc
	if !s.addSession(sess) {
		_ = pc.Close()
		st.leave(sess)
		s.caps.release(sess)
		refuse(w, http.StatusServiceUnavailable, "server shutting down")
		return
	}
	st.emit(Event{Name: EventJoined, ParticipantID: claims.ParticipantID, UserAgent: r.UserAgent()})
	pc.OnTrack(sess.onTrack)
	sess.watchConnection()

	answer, err := s.answer(r.Context(), pc, string(body))
	if err != nil {
		go sess.close("negotiation failed")
		var bad *badOffer
		if errors.As(err, &bad) {
			refuse(w, http.StatusBadRequest, bad.Error())
			return
		}
		log.Error("negotiating", "err", err)
		refuse(w, http.StatusInternalServerError, "negotiation failed: "+err.Error())
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/sdp")
	h.Set("Location", "/whip/sessions/"+sess.id)
	h.Set("ETag", `"`+sess.id+`"`)
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, answer)
	sess.log.Info("WHIP session created")
}

// badOffer is an offer pion refused.
type badOffer struct{ err error }

func (b *badOffer) Error() string { return "invalid offer: " + b.err.Error() }

// answer applies the offer and returns the answer with all candidates
// (non-trickle), waiting at most 5 s for gathering.
func (s *Server) answer(ctx context.Context, pc *webrtc.PeerConnection, offer string) (string, error) {
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", &badOffer{err}
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return "", &badOffer{err}
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", fmt.Errorf("ICE gathering: %w", ctx.Err())
	}
	return pc.LocalDescription().SDP, nil
}

// checkOffer validates an SDP offer before any WebRTC work: it must parse,
// carry at most one audio and one video section, send media, and offer a
// codec we accept in each. It returns 0 when the offer is acceptable, else
// the HTTP status and a one-line reason.
func checkOffer(body []byte) (int, string) {
	var sd sdp.SessionDescription
	if err := sd.Unmarshal(body); err != nil {
		return http.StatusBadRequest, "malformed SDP: " + err.Error()
	}
	var video, audio int
	for _, md := range sd.MediaDescriptions {
		kind := md.MediaName.Media
		switch kind {
		case "video":
			video++
		case "audio":
			audio++
		default:
			continue
		}
		for _, a := range md.Attributes {
			if a.Key == "recvonly" || a.Key == "inactive" {
				return http.StatusBadRequest, fmt.Sprintf("the %s section is %s; a WHIP publisher must send (sendonly)", kind, a.Key)
			}
		}
		if !offersAccepted(md) {
			if kind == "video" {
				return http.StatusNotAcceptable, "no supported video codec offered; accepted: " + acceptedVideo
			}
			return http.StatusNotAcceptable, "no supported audio codec offered; accepted: " + acceptedAudio
		}
	}
	switch {
	case video > 1 || audio > 1:
		return http.StatusBadRequest, fmt.Sprintf("at most one audio and one video track per session (offer has %d audio, %d video)", audio, video)
	case video+audio == 0:
		return http.StatusBadRequest, "the offer has no audio or video section"
	}
	return 0, ""
}

// offersAccepted reports whether a media section offers a codec we accept.
func offersAccepted(md *sdp.MediaDescription) bool {
	fmtp := map[string]string{}
	for _, a := range md.Attributes {
		if a.Key == "fmtp" {
			if pt, v, ok := strings.Cut(a.Value, " "); ok {
				fmtp[pt] = strings.ToLower(v)
			}
		}
	}
	for _, a := range md.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		pt, enc, ok := strings.Cut(a.Value, " ")
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(strings.ToLower(enc), "/")
		switch name {
		case "vp8", "opus":
			return true
		case "h264":
			f := fmtp[pt]
			if strings.Contains(f, "packetization-mode=1") && strings.Contains(f, "profile-level-id=42") {
				return true
			}
		}
	}
	return false
}

// sessionOf returns the session named in the path when the request's
// bearer token is one of the session's; otherwise it answers 404 (no such
// session), 401 (no token) or 403 (another token) and returns nil.
func (s *Server) sessionOf(w http.ResponseWriter, r *http.Request) *session {
	sess := s.session(r.PathValue("id"))
	token := bearer(r.Header.Get("Authorization"))
	switch {
	case sess == nil:
		dropBody(w, r)
		refuse(w, http.StatusNotFound, "no such session")
	case token == "":
		sess.log.Info("WHIP session request refused: no token", "method", r.Method)
		dropBody(w, r)
		refuseToken(w, &TokenError{Status: http.StatusUnauthorized, Reason: "missing bearer token: a session is ended or changed with its token"})
	case !sess.admits(token):
		sess.log.Info("WHIP session request refused: not the session's token", "method", r.Method)
		dropBody(w, r)
		refuse(w, http.StatusForbidden, "the bearer token is not this session's (the token it was created with, or the latest exchanged onto it)")
	default:
		return sess
	}
	return nil
}

func (s *Server) deleteSession(w http.ResponseWriter, r *http.Request) {
	sess := s.sessionOf(w, r)
	if sess == nil {
		return
	}
	sess.close("ended by the publisher (DELETE)")
	w.WriteHeader(http.StatusOK)
}

// exchangeToken replaces a session's token, and with it the participant's
// userId, attributes and capabilities. The bearer is the session's token;
// the body is the new token, which must be valid (else 400). A session
// that joined with a self-signed token (an imported public key's) follows
// IVS's rules: the new token is self-signed too and keeps the claims jti,
// topic, resource, whip_url and events_url (else 403); userId, attributes,
// capabilities, iat and exp may change, and a token without PUBLISH ends
// the publishing session right after the exchange. A session that joined
// with a token of the server's (CreateParticipantToken) takes a new token
// that allows publishing on the same stage for the same user (else 403).
// The new token becomes the session's latest.
func (s *Server) exchangeToken(w http.ResponseWriter, r *http.Request) {
	sess := s.sessionOf(w, r)
	if sess == nil {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxTokenLen+2))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			refuse(w, http.StatusRequestEntityTooLarge, "the new token is too long")
			return
		}
		refuse(w, http.StatusBadRequest, "reading the new token: "+err.Error())
		return
	}
	token := strings.TrimSpace(string(body))
	if token == "" {
		refuse(w, http.StatusBadRequest, "the body must be the new token (the bearer is the session's token)")
		return
	}
	c, err := s.verify(token)
	if err == nil {
		err = s.exchangeable(sess, c)
	}
	var te *TokenError
	if errors.As(err, &te) {
		status := te.Status
		if status == http.StatusUnauthorized {
			status = http.StatusBadRequest // the request is authorized; the token it carries is not valid
		}
		refuse(w, status, "new token: "+te.Reason)
		return
	}
	prev := sess.exchanged(token, c)
	sess.p.setAttributes(c.UserID, c.Attributes)
	sess.stage.emit(Event{Name: EventTokenExchanged, ParticipantID: sess.participantID, PreviousToken: &prev, NewToken: &c})
	if !c.Capabilities.AllowPublish {
		go sess.close("unpublished: the exchanged token does not allow publishing")
	}
	w.WriteHeader(http.StatusNoContent)
}

// exchangeable checks a verified new token against the session's (see
// exchangeToken).
func (s *Server) exchangeable(sess *session, c Claims) error {
	prev := sess.latest()
	if prev.KeyARN == "" {
		st, err := s.admit(c, "")
		if err != nil {
			return err
		}
		if st != sess.stage || c.UserID != prev.UserID {
			return forbidden("the new token must be for the same stage and user")
		}
		return nil
	}
	switch {
	case c.KeyARN == "":
		return forbidden("a participant that joined with a self-signed token exchanges it only for another self-signed token")
	case c.ParticipantID != prev.ParticipantID || c.Topic != prev.Topic || c.StageARN != prev.StageARN ||
		c.WHIPURL != prev.WHIPURL || c.EventsURL != prev.EventsURL:
		return forbidden("the new token must keep the session token's jti, topic, resource, whip_url and events_url")
	}
	return nil
}
