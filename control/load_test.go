package control

import (
	"context"
	"math"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tessera-media/tessera/capacity"
)

// With --capacity-cores, StartComposition refuses a composition whose
// estimate would take the server past it, naming the capacity; the load
// is exported; a composition that ends frees its share.
func TestCapacityAdmission(t *testing.T) {
	reg := prometheus.NewRegistry()
	env := startAPI(t, t.TempDir(), func(c *Config) { c.CapacityCores, c.Preset, c.Registerer = 1, "veryfast", reg })
	ctx := context.Background()
	c := env.client
	ec, err := c.CreateEncoderConfiguration(ctx, &ivsrealtime.CreateEncoderConfigurationInput{
		Video: &types.Video{Width: aws.Int32(1280), Height: aws.Int32(720), Framerate: aws.Float32(30)}})
	if err != nil {
		t.Fatal(err)
	}
	each := capacity.Composition(1280, 720, 30, "veryfast") // 0.38
	start := func() (*types.Composition, error) {
		st, err := c.CreateStage(ctx, &ivsrealtime.CreateStageInput{})
		if err != nil {
			t.Fatal(err)
		}
		out, err := c.StartComposition(ctx, &ivsrealtime.StartCompositionInput{StageArn: st.Stage.Arn, Destinations: []types.DestinationConfiguration{
			{Channel: &types.ChannelDestinationConfiguration{ChannelArn: aws.String(testChan), EncoderConfigurationArn: ec.EncoderConfiguration.Arn}}}})
		if err != nil {
			return nil, err
		}
		return out.Composition, nil
	}
	first, err := start()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := start(); err != nil {
		t.Fatal(err)
	}
	gauge := func(name, kind string) float64 {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != name {
				continue
			}
			for _, m := range mf.GetMetric() {
				if kind == "" || (len(m.GetLabel()) == 1 && m.GetLabel()[0].GetValue() == kind) {
					return m.GetGauge().GetValue()
				}
			}
		}
		return math.NaN()
	}
	if got := gauge("tessera_node_load_cores", "compositions"); math.Abs(got-2*each) > 1e-9 {
		t.Errorf("load of the compositions %.3f, want %.3f", got, 2*each)
	}
	if got := gauge("tessera_node_capacity_cores", ""); got != 1 {
		t.Errorf("capacity %v", got)
	}
	if got := gauge("tessera_node_load_ratio", ""); math.Abs(got-2*each) > 1e-9 {
		t.Errorf("load ratio %.3f, want %.3f", got, 2*each)
	}
	// A third would take 1.14 cores.
	_, err = start()
	wantErr[*types.ServiceQuotaExceededException](t, err, http.StatusPaymentRequired,
		"capacity is 1.0 cores (--capacity-cores): its compositions and publishers take an estimated 0.76, this composition 0.38 more")
	if n := testutil.ToFloat64(env.srv.metrics.capacityRefused); n != 1 {
		t.Errorf("tessera_node_capacity_refused_total %v", n)
	}
	// Stopping one frees its share.
	if _, err := c.StopComposition(ctx, &ivsrealtime.StopCompositionInput{Arn: first.Arn}); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, *first.Arn, types.CompositionStateStopped)
	if _, err := start(); err != nil {
		t.Errorf("after a stop: %v", err)
	}
}
