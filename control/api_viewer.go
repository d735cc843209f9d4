package control

import (
	"context"
	"path"
	"strings"
	"time"

	"github.com/tessera-media/tessera/contract"
	"github.com/tessera-media/tessera/control/store"
	"github.com/tessera-media/tessera/control/wire"
)

// createViewerTokenRequest is CreateViewerToken's input (a Tessera
// extension).
type createViewerTokenRequest struct {
	CompositionARN string `json:"compositionArn"`
	Duration       *int   `json:"duration"` // minutes, 1–1440
}

// ViewerToken is the extension's ViewerToken.
type ViewerToken struct {
	Token          string `json:"token"`
	CompositionARN string `json:"compositionArn"`
	WHEPURL        string `json:"whepUrl"`
	ExpirationTime string `json:"expirationTime"`
}

type createViewerTokenResponse struct {
	ViewerToken ViewerToken `json:"viewerToken"`
}

// defaultViewerTokenMinutes is CreateViewerToken's default duration.
const defaultViewerTokenMinutes = 60

// createViewerToken makes a token to watch a running composition live by
// WHEP: the composition must be STARTING or ACTIVE.
func (s *Server) createViewerToken(ctx context.Context, req *createViewerTokenRequest) (*createViewerTokenResponse, *wire.Error) {
	if s.cfg.ViewerTokens == nil {
		return nil, wire.AccessDenied("CreateViewerToken is not supported by this server (no live views)")
	}
	var c Composition
	if _, e := s.getDoc(ctx, store.KindComposition, req.CompositionARN, &c); e != nil {
		return nil, e
	}
	if c.State != contract.StateStarting && c.State != contract.StateActive {
		return nil, wire.Conflict("composition " + c.ARN + " is " + string(c.State) + ": only a running composition can be watched")
	}
	minutes := defaultViewerTokenMinutes
	if req.Duration != nil {
		minutes = *req.Duration
	}
	exp := time.Now().Add(time.Duration(minutes) * time.Minute).UTC().Truncate(time.Second)
	token, err := s.cfg.ViewerTokens.Sign(c.ARN, exp)
	if err != nil {
		return nil, s.internal("signing a viewer token", err)
	}
	return &createViewerTokenResponse{ViewerToken: ViewerToken{Token: token, CompositionARN: c.ARN,
		WHEPURL: strings.TrimSuffix(s.whipURL(ctx), "/whip") + "/view/" + path.Base(c.ARN), ExpirationTime: exp.Format(time.RFC3339)}}, nil
}
