package control

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Composition event names (EventBridge "IVS Composition State Change").
const (
	EventSessionStart            = "Session Start"
	EventSessionEnd              = "Session End"
	EventSessionFailure          = "Session Failure"
	EventDestinationStart        = "Destination Start"
	EventDestinationEnd          = "Destination End"
	EventDestinationFailure      = "Destination Failure"
	EventDestinationReconnecting = "Destination Reconnecting"
)

// Event is an EventBridge-shaped composition state change, as IVS sends
// them (source "aws.ivs", detail-type "IVS Composition State Change").
type Event struct {
	Version    string      `json:"version"`
	ID         string      `json:"id"`
	DetailType string      `json:"detail-type"`
	Source     string      `json:"source"`
	Account    string      `json:"account"`
	Time       string      `json:"time"`
	Region     string      `json:"region"`
	Resources  []string    `json:"resources"`
	Detail     EventDetail `json:"detail"`
}

// EventDetail is an Event's detail.
type EventDetail struct {
	EventName      string `json:"event_name"`
	StageARN       string `json:"stage_arn,omitempty"`
	DestinationID  string `json:"destination_id,omitempty"`
	DestinationARN string `json:"destination_arn,omitempty"`
	Reason         string `json:"reason,omitempty"`
}

// Notifier delivers events to webhook URLs (HTTP POST of the JSON event)
// in the background: each delivery is tried up to Attempts times with a
// doubling backoff and a per-attempt timeout, then given up (logged). A
// full queue drops the event (logged). Every event is also logged.
type Notifier struct {
	urls     []string
	log      *slog.Logger
	client   *http.Client
	attempts int
	backoff  time.Duration
	q        chan Event
	stop     chan struct{}
	wg       sync.WaitGroup

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
	QueueLen int           // default 1000
}

// NewNotifier starts a notifier for the webhook URLs (none: log only).
func NewNotifier(urls []string, log *slog.Logger, o NotifierOptions) *Notifier {
	if o.Attempts <= 0 {
		o.Attempts = 4
	}
	if o.Backoff <= 0 {
		o.Backoff = 500 * time.Millisecond
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.QueueLen <= 0 {
		o.QueueLen = 1000
	}
	n := &Notifier{urls: urls, log: log, client: &http.Client{Timeout: o.Timeout}, attempts: o.Attempts,
		backoff: o.Backoff, q: make(chan Event, o.QueueLen), stop: make(chan struct{})}
	n.wg.Add(1)
	go n.run()
	return n
}

// Notify queues an event; it never blocks.
func (n *Notifier) Notify(e Event) {
	n.log.Info("composition event", "event", e.Detail.EventName, "resource", e.Resources,
		"destination", e.Detail.DestinationID, "reason", e.Detail.Reason)
	if len(n.urls) == 0 {
		return
	}
	select {
	case n.q <- e:
	default:
		n.mu.Lock()
		n.dropped++
		n.mu.Unlock()
		n.log.Warn("event queue full; event dropped", "event", e.Detail.EventName)
	}
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

func (n *Notifier) run() {
	defer n.wg.Done()
	for {
		select {
		case e := <-n.q:
			n.deliver(e)
		case <-n.stop:
			for {
				select {
				case e := <-n.q:
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
		for attempt := 1; attempt <= n.attempts && !ok; attempt++ {
			if attempt > 1 {
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
			n.log.Warn("webhook delivery failed", "url", url, "attempt", attempt, "of", n.attempts, "err", err)
		}
		n.mu.Lock()
		if ok {
			n.delivered++
		} else {
			n.failed++
		}
		n.mu.Unlock()
	}
}

func (n *Notifier) post(url string, body []byte) error {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
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
