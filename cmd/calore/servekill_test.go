package main

import (
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/calore-crm/calore/config"
	"github.com/calore-crm/calore/ingest/tracking"
)

// TestServeKilledUnderTrackingLoad kills a `calore serve` process with
// SIGKILL while 16 clients send email opens, starts another on the same
// spool directory and checks that every open answered 200 is in ClickHouse
// (exact count of distinct event ids). It asserts the kill hit work in
// flight: once the first process is dead and the sink has stored everything
// that reached Kafka, fewer hits are stored than were acknowledged, and
// the second process reports them recovered from its write-ahead log.
//
// Seen failing with the write-ahead log disabled (CALORE_TRACKING_WAL=off,
// i.e. CALORE_TEST_TRACKING_WAL=off here): the acknowledged hits still in
// the in-memory queue at the kill are lost (bench/faults.md).
func TestServeKilledUnderTrackingLoad(t *testing.T) {
	t.Parallel()
	getenv, cfg := migrated(t)
	trackKeys := testTrackingKeys(t)
	addr := freeAddr(t)
	wal := "on"
	if v := os.Getenv("CALORE_TEST_TRACKING_WAL"); v != "" {
		wal = v
	}
	env := []string{"CALORE_HTTP_ADDR=" + addr, "CALORE_SPOOL_DIR=" + t.TempDir(), "CALORE_TRACKING_KEYS=" + trackKeys, "CALORE_TRACKING_WAL=" + wal}
	for _, k := range []string{"CALORE_PG_DSN", "CALORE_PG_MIGRATE_DSN", "CALORE_KAFKA_USER", "CALORE_KAFKA_PASSWORD", "CALORE_KAFKA_SASL_MECHANISM", "CALORE_CLICKHOUSE_ADDR", "CALORE_CLICKHOUSE_USER", "CALORE_CLICKHOUSE_PASSWORD",
		"CALORE_CLICKHOUSE_DATABASE", "CALORE_KAFKA_BROKERS", "CALORE_KAFKA_TOPIC_PREFIX", "CALORE_LOG_LEVEL"} {
		env = append(env, k+"="+getenv(k))
	}
	pcfg, err := config.FromEnv(func(k string) string {
		if k == "CALORE_TRACKING_KEYS" {
			return trackKeys
		}
		return getenv(k)
	})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := tracking.NewKeys(pcfg.Tracking.Keys)
	if err != nil {
		t.Fatal(err)
	}
	startHelper(t, env, "sink --metrics-addr= --batch-size 1000 --flush-interval 100ms")

	base := "http://" + addr
	waitUp := func() {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			resp, err := http.Get(base + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("serve not up on %s: %v", addr, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	first, _ := startHelperLog(t, env, "serve")
	waitUp()

	// load: 16 clients, each a distinct send per request, until the kill
	var acked, sent atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	issued := time.Now().Add(-time.Hour)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	for g := range 16 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := int64(g*1_000_000 + i + 1)
				tok, err := keys.Sign(tracking.Token{Kind: tracking.KindOpen, CampaignID: 1, SendID: id, ContactID: id%500 + 1, Issued: issued})
				if err != nil {
					t.Error(err)
					return
				}
				req, _ := http.NewRequest("GET", base+"/t/o/"+tok, nil)
				req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
				sent.Add(1)
				resp, err := client.Do(req)
				if err != nil {
					continue // the kill: not acknowledged
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err == nil && resp.StatusCode == http.StatusOK {
					acked.Add(1)
				}
			}
		})
	}
	deadline := time.Now().Add(60 * time.Second)
	for acked.Load() < 3000 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	close(stop)
	wg.Wait()
	ack := uint64(acked.Load())
	if ack == 0 {
		t.Fatal("no hit acknowledged before the kill")
	}

	// everything that reached Kafka before the kill, stored: the count
	// stops moving
	const q = `SELECT uniqExact(event_id) FROM tracking_events`
	before, still := chCount(t, cfg, q), 0
	for still < 15 {
		time.Sleep(200 * time.Millisecond)
		if n := chCount(t, cfg, q); n != before {
			before, still = n, 0
		} else {
			still++
		}
	}
	t.Logf("sent %d, acknowledged %d, stored before restart %d", sent.Load(), ack, before)
	if before >= ack {
		t.Fatalf("the kill hit nothing in flight: %d stored of %d acknowledged before restart", before, ack)
	}

	_, log2 := startHelperLog(t, env, "serve")
	waitUp()
	deadline = time.Now().Add(90 * time.Second)
	var after uint64
	for time.Now().Before(deadline) {
		if after = chCount(t, cfg, q); after >= ack {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	recovered := 0
	if m := regexp.MustCompile(`wal_recovered=(\d+)`).FindStringSubmatch(log2.String()); m != nil {
		recovered, _ = strconv.Atoi(m[1])
	}
	t.Logf("after restart: stored %d, recovered from the write-ahead log %d", after, recovered)
	if after < ack {
		t.Fatalf("lost acknowledged hits: %d stored, %d acknowledged (%d lost)", after, ack, ack-after)
	}
	if after > uint64(sent.Load()) {
		t.Fatalf("%d stored, more than the %d sent", after, sent.Load())
	}
	if uint64(recovered) < ack-before {
		t.Errorf("write-ahead log recovered %d, fewer than the %d acknowledged and missing before restart", recovered, ack-before)
	}
	if got := chCount(t, cfg, `SELECT count() FROM tracking_events FINAL`); got != after {
		t.Errorf("count FINAL %d, distinct event ids %d", got, after)
	}
}
