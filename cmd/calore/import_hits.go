package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/config"
	"github.com/calore-crm/calore/ingest"
	"github.com/calore-crm/calore/ingest/importer"
	"github.com/calore-crm/calore/ingest/tracking"
)

// importHitNamespace names the event ids of imported opens and clicks: an
// id is derived from the hit (type, send, time, link), so importing the same
// export twice produces the same ids and the sink counts each hit once.
var importHitNamespace = uuid.MustParse("5b0f3c1e-6a52-4b6e-9d0c-4f1e2a7c9e31")

// importUA is the user agent the machine rules see for an imported hit: the
// exports carry none, and an empty one would flag every hit as a machine.
const importUA = "calore-import (email tool export)"

// hitEvents turns imported opens and clicks (in time order) into the
// tracking events live tracking would have produced: same envelope, payload
// and machine rules that need no user agent or address (an open or click
// too soon after the send, a click right after an open, bursts of clicks).
func hitEvents(hits []importer.Hit) ([]calore.Event, error) {
	det := tracking.NewDetector(0)
	out := make([]calore.Event, 0, len(hits))
	for _, h := range hits {
		th := tracking.Hit{Method: http.MethodGet, UserAgent: importUA, Now: h.At,
			Token: tracking.Token{CampaignID: h.CampaignID, SendID: h.SendID, ContactID: h.PersonID, Issued: h.SentAt, URL: h.URL}}
		p := calore.TrackingHit{ContactID: h.PersonID, CampaignID: h.CampaignID, SendID: h.SendID}
		switch h.Type {
		case calore.EventEmailOpen:
			p.IsMachine, p.MachineReason = det.Open(th)
		case calore.EventEmailClick:
			p.URL = h.URL
			p.IsMachine, p.MachineReason = det.Click(th)
		default:
			return nil, fmt.Errorf("imported hit of type %q", h.Type)
		}
		b, err := json.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("encode imported %s: %w", h.Type, err)
		}
		name := h.Type + "|" + strconv.FormatInt(h.SendID, 10) + "|" + strconv.FormatInt(h.At.UnixNano(), 10) + "|" + h.URL
		out = append(out, calore.Event{ID: uuid.NewSHA1(importHitNamespace, []byte(name)).String(), Type: h.Type, SchemaVersion: 1,
			Time: h.At.UTC(), Aggregate: "tracking", AggregateID: "contact:" + strconv.FormatInt(h.PersonID, 10), Payload: b})
	}
	return out, nil
}

// publishHits produces the events through the tracking producer, the path of
// live hits (Kafka, acks=all, with a spool of its own under
// CALORE_SPOOL_DIR/import while Kafka is unreachable: the next import run
// sends what it holds). It returns how many still wait in the spool.
func publishHits(ctx context.Context, cfg config.Config, logger *slog.Logger, events []calore.Event) (int64, error) {
	metrics, err := tracking.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		return 0, fmt.Errorf("tracking metrics: %w", err)
	}
	k, err := ingest.NewKafka(cfg)
	if err != nil {
		return 0, fmt.Errorf("import: %w", err)
	}
	p, err := tracking.NewProducer(tracking.ProducerConfig{
		Brokers:   k.Brokers,
		SASL:      k.SASL,
		Topic:     cfg.KafkaTopicPrefix + ingest.TopicTracking,
		SpoolDir:  filepath.Join(cfg.Tracking.SpoolDir, "import"),
		QueueSize: len(events) + 1,
	}, logger, metrics)
	if err != nil {
		return 0, fmt.Errorf("import: %w", err)
	}
	var errs error
	for _, ev := range events {
		if err := p.Publish(ev); err != nil {
			errs = err
			break
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := p.Close(cctx); err != nil && errs == nil {
		errs = err
	}
	spooled, _ := p.SpoolSize()
	return spooled, errs
}
