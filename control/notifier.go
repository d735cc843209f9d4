package control

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Notifier delivers events to webhook URLs (HTTP POST of the JSON event,
// signed when a secret is set: see SignWebhook) in the background. The
// events of one stage are delivered in order, one after the other, to each
// URL in turn; events of different stages may overtake one another. Each
// delivery is tried up to Attempts times with a doubling backoff and a
// per-attempt timeout, then given up (logged). A full queue drops the
// event (logged). Every event is also logged, and every outcome counted.
type Notifier struct {
	urls     []string
	secret   []byte
	log      *slog.Logger
	client   *http.Client
	attempts int
	backoff  time.Duration
	queues   []chan Event // by hash of the event's stage
	stop     chan struct{}
	wg       sync.WaitGroup
	metrics  notifierMetrics

	mu        sync.Mutex
	delivered uint64
	failed    uint64
	dropped   uint64
}

// NotifierOptions tunes a Notifier; zero values take the defaults.
type NotifierOptions struct {
	Attempts int           // default 4
	Backoff  time.Duration // first retry delay, doubling; default 500 ms
	Timeout  time.Duration // per attempt; default 5 s
	QueueLen int           // per worker; default 1000
	Workers  int           // stages delivered at once; default 4
	// Secret signs the requests; empty: unsigned.
	Secret []byte
	// Registerer receives the delivery metrics; nil registers none.
	Registerer prometheus.Registerer
}

// notifierMetrics count events and their deliveries.
type notifierMetrics struct {
	events     *prometheus.CounterVec // by detail type and event name
	deliveries *prometheus.CounterVec // by result: delivered, failed, dropped
	retries    prometheus.Counter
}

func newNotifierMetrics(r prometheus.Registerer) notifierMetrics {
	m := notifierMetrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "events",
			Name: "total", Help: "Events emitted, by detail type and event name."}, []string{"detail_type", "event_name"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "events",
			Name: "deliveries_total", Help: "Webhook deliveries of events by result: delivered, failed (every attempt failed), dropped (queue full)."},
			[]string{"result"}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "events",
			Name: "delivery_retries_total", Help: "Webhook delivery attempts after a failed one."}),
	}
	if r != nil {
		r.MustRegister(m.events, m.deliveries, m.retries)
	}
	return m
}

// NewNotifier starts a notifier for the webhook URLs (none: log only).
func NewNotifier(urls []string, log *slog.Logger, o NotifierOptions) *Notifier {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.Attempts, 4)
	def(&o.QueueLen, 1000)
	def(&o.Workers, 4)
	if o.Backoff <= 0 {
		o.Backoff = 500 * time.Millisecond
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	n := &Notifier{urls: urls, secret: o.Secret, log: log, client: &http.Client{Timeout: o.Timeout}, attempts: o.Attempts,
		backoff: o.Backoff, stop: make(chan struct{}), metrics: newNotifierMetrics(o.Registerer)}
	for range o.Workers {
		q := make(chan Event, o.QueueLen)
		n.queues = append(n.queues, q)
		n.wg.Add(1)
		go n.run(q)
	}
	return n
}

// Notify queues an event; it never blocks.
func (n *Notifier) Notify(e Event) {
	n.metrics.events.WithLabelValues(e.DetailType, e.eventName()).Inc()
	n.log.Info("event", "detail_type", e.DetailType, "event", e.eventName(), "resource", e.Resources, "detail", e.Detail)
	if len(n.urls) == 0 {
		return
	}
	h := fnv.New32a()
	h.Write([]byte(e.stage))
	select {
	case n.queues[h.Sum32()%uint32(len(n.queues))] <- e:
	default:
		n.count(&n.dropped, "dropped", uint64(len(n.urls)))
		n.log.Warn("event queue full; event dropped", "event", e.eventName(), "resource", e.Resources)
	}
}

func (n *Notifier) count(c *uint64, result string, k uint64) {
	n.mu.Lock()
	*c += k
	n.mu.Unlock()
	n.metrics.deliveries.WithLabelValues(result).Add(float64(k))
}

// Stats returns deliveries made, given up and dropped.
func (n *Notifier) Stats() (delivered, failed, dropped uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.delivered, n.failed, n.dropped
}

// Close delivers what is queued (bounded by ctx) and stops.
func (n *Notifier) Close(ctx context.Context) error {
	close(n.stop)
	done := make(chan struct{})
	go func() { n.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("control: notifier: %w", ctx.Err())
	}
}

func (n *Notifier) run(q chan Event) {
	defer n.wg.Done()
	for {
		select {
		case e := <-q:
			n.deliver(e)
		case <-n.stop:
			for {
				select {
				case e := <-q:
					n.deliver(e)
				default:
					return
				}
			}
		}
	}
}

func (n *Notifier) deliver(e Event) {
	body, err := json.Marshal(e)
	if err != nil {
		n.log.Error("encoding event", "err", err)
		return
	}
	for _, url := range n.urls {
		ok := false
		delay := n.backoff
		for attempt := 1; attempt <= n.attempts; attempt++ {
			if attempt > 1 {
				n.metrics.retries.Inc()
				select {
				case <-time.After(delay):
				case <-n.stop:
					// Shutting down: one more try without waiting.
				}
				delay *= 2
			}
			err := n.post(url, body)
			if err == nil {
				ok = true
				break
			}
			n.log.Warn("webhook delivery failed", "url", url, "event_id", e.ID, "attempt", attempt, "of", n.attempts, "err", err)
		}
		if ok {
			n.count(&n.delivered, "delivered", 1)
		} else {
			n.count(&n.failed, "failed", 1)
		}
	}
}

func (n *Notifier) post(url string, body []byte) error {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if len(n.secret) > 0 {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req.Header.Set(TimestampHeader, ts)
		req.Header.Set(SignatureHeader, SignWebhook(n.secret, ts, body))
	}
	resp, err := n.client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}
