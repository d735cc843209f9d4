package ingest

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/internal/testsrv"
)

// participantSeries gathers reg and returns the tessera_participant_*
// values of one participant by metric name (packets_total by name and
// kind, "packets_total/video"), and how many participant series there are
// in all.
func participantSeries(t *testing.T, reg *prometheus.Registry, stage, participant string) (map[string]float64, int) {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out, all := map[string]float64{}, 0
	for _, f := range families {
		name, ok := strings.CutPrefix(f.GetName(), "tessera_participant_")
		if !ok {
			continue
		}
		for _, m := range f.GetMetric() {
			all++
			l := map[string]string{}
			for _, p := range m.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			if l["stage"] != stage || l["participant"] != participant {
				continue
			}
			key := name
			if k := l["kind"]; k != "" {
				key += "/" + k
			}
			out[key] = value(m)
		}
	}
	return out, all
}

func value(m *dto.Metric) float64 {
	if c := m.GetCounter(); c != nil {
		return c.GetValue()
	}
	return m.GetGauge().GetValue()
}

// A Go publisher at 25 fps with a tone: the per-participant series show
// its picture rate, packets, no decode errors or losses, audio and video
// within 0.2 s of each other, and they disappear when it leaves.
func TestParticipantMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	ts := startServer(t, func(c *Config) { c.Registerer = reg })
	const id = "metered"
	pub := startPublisher(t, publisher.Config{
		WHIP: ts.url + "/whip", Token: ts.token(t, id, nil), Name: id, Codec: "h264",
		Width: 320, Height: 180, FPS: 25, ToneHz: publisher.DefaultToneHz,
	})
	var p *Participant
	testsrv.WaitFor(t, 10*time.Second, "the participant", func() bool { p = ts.stage.Participant(id); return p != nil })
	testsrv.WaitFor(t, 10*time.Second, "the first picture", func() bool { return p.Video().Frames() > 0 })
	time.Sleep(2500 * time.Millisecond) // more than the rate window past the first picture

	// A/V offset, sampled a few times (one sample is one moment between
	// an audio frame and a picture).
	var offsets []float64
	for range 5 {
		s, _ := participantSeries(t, reg, "AbCdEf012345", id)
		if v, ok := s["av_offset_seconds"]; ok {
			offsets = append(offsets, v)
		}
		time.Sleep(90 * time.Millisecond)
	}
	s, _ := participantSeries(t, reg, "AbCdEf012345", id)
	t.Logf("series: %v; A/V offsets %v", s, offsets)
	if fps := s["fps"]; math.Abs(fps-25) > 3 {
		t.Errorf("fps %.1f, want ≈25", fps)
	}
	if s["video_frames_total"] < 50 || s["audio_frames_total"] < 50 || s["packets_total/video"] < 50 || s["packets_total/audio"] < 50 {
		t.Errorf("too few frames or packets counted: %v", s)
	}
	for _, name := range []string{"decode_errors_total", "packets_lost_total", "freezes_total", "pli_sent_total"} {
		if v, ok := s[name]; !ok || v != 0 {
			t.Errorf("%s = %v (present %v), want 0 on a clean loopback run", name, v, ok)
		}
	}
	if len(offsets) != 5 {
		t.Fatalf("A/V offset present in %d of 5 scrapes", len(offsets))
	}
	for _, o := range offsets {
		if math.Abs(o) > 0.2 {
			t.Errorf("A/V offset %.3f s, want within ±0.2 s", o)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := pub.Close(ctx); err != nil {
		t.Fatal(err)
	}
	testsrv.WaitFor(t, 5*time.Second, "the participant to leave", func() bool { return len(ts.stage.Roster()) == 0 })
	if s, all := participantSeries(t, reg, "AbCdEf012345", id); all != 0 {
		t.Errorf("%d participant series after it left: %v", all, s)
	}
}

func TestRateMeter(t *testing.T) {
	var m rateMeter
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	// 30 per second, sampled every 250 ms; samples closer than 100 ms
	// apart are ignored.
	for i := range 12 {
		m.sample(ms(250*i), uint64(30*250*i/1000))
		m.sample(ms(250*i+50), 1e9)
	}
	if r := m.rate(); math.Abs(r-30) > 0.5 {
		t.Errorf("rate %.2f, want 30", r)
	}
	// The rate covers about the last second: after a stop it falls to 0
	// within a second.
	n := uint64(30 * 250 * 11 / 1000)
	for i := 12; i < 17; i++ {
		m.sample(ms(250*i), n)
	}
	if r := m.rate(); r != 0 {
		t.Errorf("rate %.2f a second after the counter stopped, want 0", r)
	}
}
