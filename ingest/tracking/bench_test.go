package tracking

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/ingest"
	"github.com/calore-crm/calore/ingest/kafkatest"
)

// BenchmarkTrackingEndpoint measures GET /t/o/{token} over real HTTP on loopback
// (client in the same process), with the real producer writing to the real
// Kafka, next to BenchmarkBareHandler, the limit: a net/http handler that
// only writes the same GIF. Each reports req/s and the p99 latency; the
// tracking one also waits, outside the timer, until Kafka acknowledged every
// hit, and reports how many had to go to the spool.
func BenchmarkTrackingEndpoint(b *testing.B) {
	brokers, prefix := kafkatest.Topics(b, 6, ingest.TopicTracking)
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	p, err := NewProducer(ProducerConfig{Brokers: brokers, SASL: kafkatest.Kafka(b).SASL, Topic: prefix + ingest.TopicTracking, SpoolDir: b.TempDir()}, quietLogger(), m)
	if err != nil {
		b.Fatal(err)
	}
	keys := mustKeys(b, testKey("k1", 1))
	h, err := Routes(Options{Keys: keys, Publisher: p, Logger: quietLogger(), Metrics: m})
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/t/", http.StripPrefix("/t", h))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	sent := time.Now().Add(-time.Hour)
	paths := make([]string, 1000)
	for i := range paths {
		tok, err := keys.Sign(Token{Kind: KindOpen, CampaignID: 1, SendID: int64(i + 1), ContactID: int64(i + 1), Issued: sent})
		if err != nil {
			b.Fatal(err)
		}
		paths[i] = srv.URL + "/t/o/" + tok
	}
	runLoad(b, paths)
	b.StopTimer()
	deadline := time.Now().Add(60 * time.Second)
	for testutil.ToFloat64(m.Produced)+testutil.ToFloat64(m.Spooled) < testutil.ToFloat64(m.Hits.WithLabelValues("email.open", "false")) {
		if time.Now().After(deadline) {
			b.Fatal("hits not acknowledged by Kafka within 60 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.ReportMetric(testutil.ToFloat64(m.Spooled), "spooled")
	if err := p.Close(b.Context()); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkBareHandler is the limit for BenchmarkTrackingEndpoint: the same
// load against a plain net/http handler writing the GIF.
func BenchmarkBareHandler(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/gif")
		w.Header().Set("Content-Length", strconv.Itoa(len(transparentGIF)))
		_, _ = w.Write(transparentGIF)
	}))
	defer srv.Close()
	paths := make([]string, 1000)
	for i := range paths {
		paths[i] = srv.URL + "/t/o/" + strconv.Itoa(i)
	}
	runLoad(b, paths)
}

// runLoad sends b.N GETs from 4×GOMAXPROCS goroutines over keep-alive
// connections and reports req/s and p50/p99 latency in milliseconds.
func runLoad(b *testing.B, urls []string) {
	b.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}, Timeout: 10 * time.Second}
	var (
		mu  sync.Mutex
		all []time.Duration
	)
	b.SetParallelism(4)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var lat []time.Duration
		i := 0
		for pb.Next() {
			t0 := time.Now()
			resp, err := client.Get(urls[i%len(urls)])
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
			lat = append(lat, time.Since(t0))
			i++
		}
		mu.Lock()
		all = append(all, lat...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if len(all) == 0 {
		return
	}
	slices.Sort(all)
	q := func(f float64) float64 { return float64(all[int(f*float64(len(all)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}

type discard struct{}

func (discard) Publish(ev calore.Event) error { return nil }

// BenchmarkOpenHandler is the open handler's own cost, in process, without
// network or Kafka (the event is built and handed to a publisher that drops it).
func BenchmarkOpenHandler(b *testing.B) {
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	keys := mustKeys(b, testKey("k1", 1))
	h, err := Routes(Options{Keys: keys, Publisher: discard{}, Logger: quietLogger(), Metrics: m})
	if err != nil {
		b.Fatal(err)
	}
	tok, _ := keys.Sign(Token{Kind: KindOpen, CampaignID: 1, SendID: 1, ContactID: 1, Issued: time.Now().Add(-time.Hour)})
	r := httptest.NewRequest("GET", "/o/"+tok, nil)
	r.Header.Set("User-Agent", firefox)
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
}
