package main

import (
	"log/slog"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-media/tessera/ingest"
	"github.com/tessera-media/tessera/whep"
)

// startViews starts the compositions' live views (WHEP at /view/…) on
// ingest's UDP port, with the viewer-token key in <data>/viewer-token.key.
func startViews(s *settings, ing *ingest.Server, loopback bool, log *slog.Logger, reg prometheus.Registerer) (*whep.Server, *whep.Tokens, error) {
	tokens, err := whep.LoadOrCreateTokens(filepath.Join(s.Data, "viewer-token.key"))
	if err != nil {
		return nil, nil, err
	}
	views, err := whep.New(whep.Config{Tokens: tokens, Mux: ing.ICEMux(), Batch: ing.BatchWrites, Loopback: loopback, PublicIPs: s.PublicIPs,
		MaxViewers: s.MaxViewers, ConnectTimeout: s.WHIPConnectTimeout, Logger: log, Registerer: reg})
	if err != nil {
		return nil, nil, err
	}
	return views, tokens, nil
}
