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
	// AVOffsetMS is the capture time of the newest audio frame minus that
	// of the newest picture (ingest's av_offset_seconds), absent until
	// both arrived and while the video is stopped.
	AVOffsetMS *int64 `json:"avOffsetMs,omitempty"`
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
				ps := publisherStats{ParticipantID: info.ID, Protocol: info.Protocol,
					VideoCodec: info.VideoCodec, AudioCodec: info.AudioCodec, Width: info.Width, Height: info.Height,
					VideoStopped: info.VideoStopped, FramesDecoded: n.FramesDecoded, PacketsLost: n.PacketsLost, Freezes: n.Freezes}
				if d, ok := p.AVOffset(); ok && !info.VideoStopped {
					ms := d.Milliseconds()
					ps.AVOffsetMS = &ms
				}
				out = append(out, ps)
			}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"publishers": out})
}
