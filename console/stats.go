package console

import "net/http"

// publisherStats are one publisher's media counters.
type publisherStats struct {
	ParticipantID string `json:"participantId"`
	Protocol      string `json:"protocol"`
	VideoCodec    string `json:"videoCodec,omitempty"`
	AudioCodec    string `json:"audioCodec,omitempty"`
	Width         int    `json:"width"`
	Height        int    `json:"height"`
	VideoStopped  bool   `json:"videoStopped"`
	FramesDecoded uint64 `json:"framesDecoded"`
	PacketsLost   uint64 `json:"packetsLost"`
	Freezes       uint64 `json:"freezes"`
}

// stats lists the counters of the stage's publishers connected now.
func (c *Console) stats(w http.ResponseWriter, r *http.Request, _ *session) {
	out := []publisherStats{}
	if c.cfg.Ingest != nil {
		if st := c.cfg.Ingest.Stage(r.URL.Query().Get("stageArn")); st != nil {
			for _, info := range st.Roster() {
				p := st.Participant(info.ID)
				if p == nil {
					continue
				}
				n := p.Stats()
				out = append(out, publisherStats{ParticipantID: info.ID, Protocol: info.Protocol,
					VideoCodec: info.VideoCodec, AudioCodec: info.AudioCodec, Width: info.Width, Height: info.Height,
					VideoStopped: info.VideoStopped, FramesDecoded: n.FramesDecoded, PacketsLost: n.PacketsLost, Freezes: n.Freezes})
			}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"publishers": out})
}
