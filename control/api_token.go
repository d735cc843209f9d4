package control

import (
	"context"
	"time"

	"github.com/tessera-media/tessera/control/store"
	"github.com/tessera-media/tessera/control/wire"
	"github.com/tessera-media/tessera/ingest"
)

// issueToken signs a participant token for a stage.
func (s *Server) issueToken(ctx context.Context, stageARN string, tc ParticipantTokenConfiguration) (ParticipantToken, *wire.Error) {
	duration := 720
	if tc.Duration != nil {
		duration = *tc.Duration
	}
	caps := tc.Capabilities
	if len(caps) == 0 {
		caps = []string{"PUBLISH", "SUBSCRIBE"}
	}
	if e := checkTokenConfiguration(tc); e != nil {
		return ParticipantToken{}, e
	}
	now := time.Now().UTC()
	exp := now.Add(time.Duration(duration) * time.Minute)
	id := newID()
	c := ingest.Claims{
		ParticipantID: id, StageARN: stageARN, Topic: arnID(stageARN), WHIPURL: s.stageWHIPURL(ctx, stageARN),
		UserID: tc.UserID, Attributes: tc.Attributes, Version: ingest.TokenVersion,
		IssuedAt: now.Unix(), ExpiresAt: exp.Unix(),
	}
	for _, cp := range caps {
		switch cp {
		case "PUBLISH":
			c.Capabilities.AllowPublish = true
		case "SUBSCRIBE":
			c.Capabilities.AllowSubscribe = true
		}
	}
	tok, err := s.cfg.TokenKey.Sign(c)
	if err != nil {
		return ParticipantToken{}, s.internal("signing a token", err)
	}
	return ParticipantToken{ParticipantID: id, Token: tok, UserID: tc.UserID, Attributes: tc.Attributes,
		Duration: duration, Capabilities: caps, ExpirationTime: timestamp(exp)}, nil
}

// checkTokenConfiguration refuses what the model cannot express: attributes
// above 1 KB in total.
func checkTokenConfiguration(tc ParticipantTokenConfiguration) *wire.Error {
	return checkAttributes(tc.Attributes)
}

// checkAttributes refuses a participant's attributes (a token's, an ingest
// configuration's) above 1 KB in total, keys and values.
func checkAttributes(attributes map[string]string) *wire.Error {
	total := 0
	for k, v := range attributes {
		total += len(k) + len(v)
	}
	if total > 1024 {
		return wire.ValidationError("attributes exceed 1 KB in total")
	}
	return nil
}

func (s *Server) createParticipantToken(ctx context.Context, req *createParticipantTokenRequest) (*createParticipantTokenResponse, *wire.Error) {
	if _, e := s.getDoc(ctx, store.KindStage, req.StageARN, nil); e != nil {
		return nil, e
	}
	tok, e := s.issueToken(ctx, req.StageARN, req.ParticipantTokenConfiguration)
	if e != nil {
		return nil, e
	}
	return &createParticipantTokenResponse{ParticipantToken: tok}, nil
}
