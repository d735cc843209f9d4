// Package pionconf is the pion setting engine Tessera's WebRTC endpoints
// share (WHIP ingest, WHEP views): every PeerConnection on one ICE UDP
// mux, IPv4 UDP only, loopback candidates only when asked, no mDNS (the
// answers' candidates are addresses; a peer's ".local" candidates are not
// needed: its checks reach the server and become peer-reflexive
// candidates; with mDNS every ICE agent would hold three multicast sockets
// and five goroutines), public addresses for 1:1 NAT, ICE and DTLS
// bounded in time, pion's logs through pionlog.
package pionconf

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"github.com/tessera-media/tessera/internal/pionlog"
)

// Settings are an endpoint's choices.
type Settings struct {
	Mux      ice.UDPMux
	Loopback bool // offer loopback candidates
	// PublicIPs, if set, replace the host candidates' addresses.
	PublicIPs []string
	// ICEDisconnected and ICEFailed: how long without ICE traffic a
	// connection is disconnected, then failed; Connect bounds DTLS.
	ICEDisconnected, ICEFailed, Connect time.Duration
	Logger                              *slog.Logger
}

// SettingEngine returns the setting engine for s.
func SettingEngine(s Settings) (webrtc.SettingEngine, error) {
	var se webrtc.SettingEngine
	se.LoggerFactory = pionlog.New(s.Logger)
	se.SetICEUDPMux(s.Mux)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(s.Loopback)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if len(s.PublicIPs) > 0 {
		if err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{External: s.PublicIPs,
			AsCandidateType: webrtc.ICECandidateTypeHost, Mode: webrtc.ICEAddressRewriteReplace}); err != nil {
			return se, fmt.Errorf("public IPs %v: %w", s.PublicIPs, err)
		}
	}
	se.SetICETimeouts(s.ICEDisconnected, s.ICEFailed, time.Second)
	se.SetDTLSConnectContextMaker(func() (context.Context, func()) {
		return context.WithTimeout(context.Background(), s.Connect)
	})
	return se, nil
}
