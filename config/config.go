// Package config reads Calore's configuration from CALORE_* environment
// variables. Every variable has a default that points at the local stack
// started by scripts/stack, so a fresh checkout works without any setting.
package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration of the calore binary.
type Config struct {
	PostgresDSN string // CALORE_PG_DSN: the application role (no superuser, DML only)
	// PostgresMigrateDSN is the role that owns the schema and runs `calore
	// migrate` (CALORE_PG_MIGRATE_DSN, default CALORE_PG_DSN); when its user
	// differs from CALORE_PG_DSN's, migrate grants that user DML on the tables.
	PostgresMigrateDSN string

	KafkaBrokers     []string  // CALORE_KAFKA_BROKERS, comma separated
	KafkaPartitions  int       // CALORE_KAFKA_PARTITIONS: partitions of each topic `calore migrate` creates
	KafkaReplication int       // CALORE_KAFKA_REPLICATION: replication factor of those topics
	KafkaTopicPrefix string    // CALORE_KAFKA_TOPIC_PREFIX: prefix of every topic name
	KafkaSASL        KafkaSASL // who this process is on Kafka

	ClickHouse ClickHouse

	HTTPAddr string     // CALORE_HTTP_ADDR
	LogLevel slog.Level // CALORE_LOG_LEVEL: debug, info, warn, error

	// PublicURL is the address users open Calore at (CALORE_PUBLIC_URL,
	// e.g. https://crm.example.edu behind a TLS-terminating proxy): its
	// scheme and host are the origin the same-origin rule expects (package
	// web). Nil (unset): each request's own scheme and Host.
	PublicURL *url.URL
	// CookieSecure marks the session cookie Secure (CALORE_COOKIE_SECURE,
	// true/false; default true when CALORE_PUBLIC_URL is https, else false
	// so that the local stack's plain http works).
	CookieSecure bool

	// Today pins the day the dashboards treat as today (their default
	// period ends there) and `calore score` scores as of by default:
	// CALORE_TODAY=YYYY-MM-DD, for demos on historical data and reproducible
	// reports. Zero (unset) means the real date.
	Today time.Time

	// FundraisingTargets are the year's threshold, target and excellence in
	// EUR, "2700000,2800000,3100000" (CALORE_FUNDRAISING_TARGETS; "" means
	// those of the tender); parsed and checked by kpiq.ParseTargets when
	// `calore serve` starts.
	FundraisingTargets string

	// RollupEvery is how often `calore sink` refreshes the dashboards'
	// rollup tables when the warehouse changed (CALORE_ROLLUP_EVERY, a Go
	// duration; default 1m; 0 never): the dashboards' figures are at most
	// about this old (docs/dashboards.md).
	RollupEvery time.Duration

	Tracking Tracking

	// DataKeyMaster, when set, wraps the per-person data keys that seal
	// personal fields in Kafka (CALORE_DATA_KEY_MASTER, 32 bytes in
	// base64; docs/gdpr.md): a copy of PostgreSQL alone then opens nothing
	// in Kafka. Only `calore relay` and `calore sink` need it.
	DataKeyMaster []byte
}

// Tracking configures the tracking endpoints of `calore serve` (ingest/tracking).
type Tracking struct {
	// Keys sign and verify tracking tokens (CALORE_TRACKING_KEYS,
	// "kid:base64secret,kid2:base64secret"): the first signs, all verify, so
	// a key rotates by putting the new one first and dropping the old one
	// once its links no longer matter.
	Keys []TrackingKey
	// DevKeys is true when Keys is the built-in, public development key:
	// only when CALORE_TRACKING_KEYS is unset and CALORE_TRACKING_DEV_KEY=1
	// asks for it. Without either, Keys is empty and `calore serve` refuses
	// to start (RequireKeys); the other commands do not sign or verify.
	DevKeys bool
	// Origins may send web beacons from a browser (CALORE_TRACKING_ORIGINS,
	// comma separated, e.g. "https://www.example.edu"; "*" allows any).
	Origins []string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is believed
	// (CALORE_TRACKING_TRUSTED_PROXIES, comma separated CIDRs or addresses).
	TrustedProxies []netip.Prefix
	// SpoolDir holds tracking events while Kafka is unreachable
	// (CALORE_SPOOL_DIR; default .stack/spool when .stack exists, else ./spool).
	// Its wal/ subfolder is the write-ahead log of acknowledged hits.
	SpoolDir string
	// NoWAL switches the write-ahead log off (CALORE_TRACKING_WAL=off; on
	// by default): hits are then answered before they are durable and a
	// crash of serve loses them. Only for measuring.
	NoWAL bool
}

// TrackingKey is one HMAC-SHA256 key of the tracking tokens.
type TrackingKey struct {
	ID     string // key id carried in each token: letters, digits, '-' or '_', at most 16
	Secret []byte // at least 32 bytes
}

// KafkaSASL is the SASL identity of a process's Kafka clients: each process
// (relay, sink, serve) has a user of its own, with ACLs for what it does
// (docs/deploy.md). No user means no authentication.
type KafkaSASL struct {
	User      string // CALORE_KAFKA_USER
	Password  string // CALORE_KAFKA_PASSWORD
	Mechanism string // CALORE_KAFKA_SASL_MECHANISM: SCRAM-SHA-512 (default), SCRAM-SHA-256 or PLAIN
}

// The SASL mechanisms Calore's Kafka clients speak.
const (
	SCRAMSHA512 = "SCRAM-SHA-512"
	SCRAMSHA256 = "SCRAM-SHA-256"
	SASLPlain   = "PLAIN"
)

// ClickHouse is how to reach the warehouse, over the native protocol.
type ClickHouse struct {
	Addr     []string // CALORE_CLICKHOUSE_ADDR, comma separated host:port (native protocol)
	User     string   // CALORE_CLICKHOUSE_USER
	Password string   // CALORE_CLICKHOUSE_PASSWORD
	Database string   // CALORE_CLICKHOUSE_DATABASE
	// BIDatabase holds the Power BI reporting objects (CALORE_CLICKHOUSE_BI_DATABASE,
	// default "bi"), created by `calore migrate` from warehouse/bi.
	BIDatabase string
}

// Defaults match scripts/stack.
const (
	// DefaultPostgresDSN is the local stack's application role; its password
	// is generated, `scripts/stack env` prints the whole DSN.
	DefaultPostgresDSN = "postgres://calore_app@127.0.0.1:15432/calore?sslmode=disable"
	DefaultKafka       = "127.0.0.1:19092"
	DefaultClickHouse  = "127.0.0.1:19000"
	DefaultHTTPAddr    = "127.0.0.1:8080"

	// DefaultTrackingKeys is a DEVELOPMENT-ONLY tracking key, public in this
	// source file: anyone can forge tokens with it. It is used only when
	// CALORE_TRACKING_KEYS is unset and CALORE_TRACKING_DEV_KEY=1 (`calore
	// serve` then warns); its secret is refused inside CALORE_TRACKING_KEYS,
	// so it never verifies next to real keys.
	DefaultTrackingKeys = "dev:Y2Fsb3JlLWRldmVsb3BtZW50LW9ubHktdHJhY2tpbmcta2V5LW5vdC1zZWNyZXQ="
)

// FromEnv reads the configuration through getenv (os.Getenv in main, a map in
// tests) and validates it; the error lists every problem at once.
func FromEnv(getenv func(string) string) (Config, error) {
	get := func(key, def string) string {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			return v
		}
		return def
	}
	var problems []error
	atoi := func(key, def string) int {
		n, err := strconv.Atoi(get(key, def))
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: %q is not a whole number", key, get(key, def)))
		}
		return n
	}
	c := Config{
		PostgresDSN:      get("CALORE_PG_DSN", DefaultPostgresDSN),
		KafkaBrokers:     splitList(get("CALORE_KAFKA_BROKERS", DefaultKafka)),
		KafkaPartitions:  atoi("CALORE_KAFKA_PARTITIONS", "6"),
		KafkaReplication: atoi("CALORE_KAFKA_REPLICATION", "1"),
		KafkaTopicPrefix: get("CALORE_KAFKA_TOPIC_PREFIX", "calore."),
		KafkaSASL: KafkaSASL{
			User:      get("CALORE_KAFKA_USER", ""),
			Password:  getenv("CALORE_KAFKA_PASSWORD"),
			Mechanism: strings.ToUpper(get("CALORE_KAFKA_SASL_MECHANISM", SCRAMSHA512)),
		},
		ClickHouse: ClickHouse{
			Addr:       splitList(get("CALORE_CLICKHOUSE_ADDR", DefaultClickHouse)),
			User:       get("CALORE_CLICKHOUSE_USER", "calore"),
			Password:   get("CALORE_CLICKHOUSE_PASSWORD", "calore"),
			Database:   get("CALORE_CLICKHOUSE_DATABASE", "calore"),
			BIDatabase: get("CALORE_CLICKHOUSE_BI_DATABASE", "bi"),
		},
		HTTPAddr:           get("CALORE_HTTP_ADDR", DefaultHTTPAddr),
		FundraisingTargets: get("CALORE_FUNDRAISING_TARGETS", ""),
	}
	c.PostgresMigrateDSN = get("CALORE_PG_MIGRATE_DSN", c.PostgresDSN)
	if v := get("CALORE_TODAY", ""); v != "" {
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			problems = append(problems, fmt.Errorf("CALORE_TODAY: %q is not YYYY-MM-DD", v))
		}
		c.Today = t
	}
	if d, err := time.ParseDuration(get("CALORE_ROLLUP_EVERY", "1m")); err != nil || d < 0 {
		problems = append(problems, fmt.Errorf("CALORE_ROLLUP_EVERY: %q is not a duration such as 1m or 30s", get("CALORE_ROLLUP_EVERY", "1m")))
	} else {
		c.RollupEvery = d
	}
	if v := get("CALORE_PUBLIC_URL", ""); v != "" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			problems = append(problems, fmt.Errorf("CALORE_PUBLIC_URL: %q is not an origin like https://crm.example.edu", v))
		} else {
			c.PublicURL = &url.URL{Scheme: u.Scheme, Host: u.Host}
		}
	}
	secureDefault := strconv.FormatBool(c.PublicURL != nil && c.PublicURL.Scheme == "https")
	if b, err := strconv.ParseBool(get("CALORE_COOKIE_SECURE", secureDefault)); err != nil {
		problems = append(problems, fmt.Errorf("CALORE_COOKIE_SECURE: %q is not true or false", get("CALORE_COOKIE_SECURE", "")))
	} else {
		c.CookieSecure = b
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("CALORE_LOG_LEVEL", "info"))); err != nil {
		problems = append(problems, fmt.Errorf("CALORE_LOG_LEVEL: %w", err))
	}
	c.Tracking, problems = trackingFromEnv(get, problems)
	if v := get("CALORE_DATA_KEY_MASTER", ""); v != "" {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(b) != 32 {
			problems = append(problems, errors.New("CALORE_DATA_KEY_MASTER: want 32 random bytes in base64 (openssl rand -base64 32)"))
		}
		c.DataKeyMaster = b
	}
	if err := errors.Join(append(problems, c.Validate())...); err != nil {
		return c, fmt.Errorf("configuration: %w", err)
	}
	return c, nil
}

// Now is the configuration's clock: Today at the current time of day when
// CALORE_TODAY pins it, else the real time.
func (c Config) Now() time.Time {
	now := time.Now().UTC()
	if c.Today.IsZero() {
		return now
	}
	return c.Today.Add(now.Sub(now.Truncate(24 * time.Hour)))
}

// Validate reports every problem of the configuration, joined.
func (c Config) Validate() error {
	var errs []error
	if u, err := url.Parse(c.PostgresDSN); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		errs = append(errs, errors.New("CALORE_PG_DSN: want a postgres:// URL"))
	}
	if u, err := url.Parse(c.PostgresMigrateDSN); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		errs = append(errs, errors.New("CALORE_PG_MIGRATE_DSN: want a postgres:// URL"))
	}
	errs = append(errs, c.KafkaSASL.Validate())
	errs = append(errs, hostPorts("CALORE_KAFKA_BROKERS", c.KafkaBrokers), hostPorts("CALORE_CLICKHOUSE_ADDR", c.ClickHouse.Addr))
	if c.KafkaPartitions < 1 {
		errs = append(errs, fmt.Errorf("CALORE_KAFKA_PARTITIONS: %d, want at least 1", c.KafkaPartitions))
	}
	if c.KafkaReplication < 1 {
		errs = append(errs, fmt.Errorf("CALORE_KAFKA_REPLICATION: %d, want at least 1", c.KafkaReplication))
	}
	if c.ClickHouse.Database == "" || strings.ContainsAny(c.ClickHouse.Database, "`'\" .;") {
		errs = append(errs, fmt.Errorf("CALORE_CLICKHOUSE_DATABASE: %q is not a plain database name", c.ClickHouse.Database))
	}
	if !plainName.MatchString(c.ClickHouse.BIDatabase) {
		errs = append(errs, fmt.Errorf("CALORE_CLICKHOUSE_BI_DATABASE: %q is not a plain database name (letters, digits, '_')", c.ClickHouse.BIDatabase))
	} else if c.ClickHouse.BIDatabase == c.ClickHouse.Database {
		errs = append(errs, fmt.Errorf("CALORE_CLICKHOUSE_BI_DATABASE: %q must differ from CALORE_CLICKHOUSE_DATABASE", c.ClickHouse.BIDatabase))
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		errs = append(errs, fmt.Errorf("CALORE_HTTP_ADDR: %w", err))
	}
	errs = append(errs, c.Tracking.Validate())
	return errors.Join(errs...)
}

// Validate reports a password without a user, a user without a password and
// an unknown mechanism.
func (k KafkaSASL) Validate() error {
	var errs []error
	switch k.Mechanism {
	case SCRAMSHA512, SCRAMSHA256, SASLPlain:
	default:
		errs = append(errs, fmt.Errorf("CALORE_KAFKA_SASL_MECHANISM: %q, want %s, %s or %s", k.Mechanism, SCRAMSHA512, SCRAMSHA256, SASLPlain))
	}
	if k.User == "" && k.Password != "" {
		errs = append(errs, errors.New("CALORE_KAFKA_PASSWORD: set without CALORE_KAFKA_USER"))
	}
	if k.User != "" && k.Password == "" {
		errs = append(errs, errors.New("CALORE_KAFKA_PASSWORD: empty for CALORE_KAFKA_USER "+strconv.Quote(k.User)))
	}
	return errors.Join(errs...)
}

// plainName is a database name that can be written into a statement as is.
var plainName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,16}$`)

// trackingFromEnv reads the CALORE_TRACKING_* variables and CALORE_SPOOL_DIR;
// parse problems are appended to problems.
func trackingFromEnv(get func(key, def string) string, problems []error) (Tracking, []error) {
	t := Tracking{SpoolDir: get("CALORE_SPOOL_DIR", defaultSpoolDir())}
	switch wal := get("CALORE_TRACKING_WAL", "on"); wal {
	case "on":
	case "off":
		t.NoWAL = true
	default:
		problems = append(problems, fmt.Errorf("CALORE_TRACKING_WAL: %q, want on or off", wal))
	}
	keys := get("CALORE_TRACKING_KEYS", "")
	switch dev := get("CALORE_TRACKING_DEV_KEY", "0"); {
	case dev != "0" && dev != "1":
		problems = append(problems, fmt.Errorf("CALORE_TRACKING_DEV_KEY: %q, want 0 or 1", dev))
	case keys == "" && dev == "1":
		// Real keys win over the flag: with CALORE_TRACKING_KEYS set the
		// development key is not loaded at all.
		keys, t.DevKeys = DefaultTrackingKeys, true
	}
	_, devSecret, _ := strings.Cut(DefaultTrackingKeys, ":")
	for _, kv := range splitList(keys) {
		id, secret, ok := strings.Cut(kv, ":")
		if !ok {
			problems = append(problems, fmt.Errorf("CALORE_TRACKING_KEYS: %q is not kid:base64secret", redact(kv)))
			continue
		}
		b, err := base64.StdEncoding.DecodeString(secret)
		if err != nil {
			b, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(secret, "="))
		}
		if err != nil {
			problems = append(problems, fmt.Errorf("CALORE_TRACKING_KEYS: key %q: secret is not base64", id))
			continue
		}
		if !t.DevKeys && string(b) == mustBase64(devSecret) {
			problems = append(problems, fmt.Errorf("CALORE_TRACKING_KEYS: key %q is the public development key; generate a secret (head -c 32 /dev/urandom | base64)", id))
			continue
		}
		t.Keys = append(t.Keys, TrackingKey{ID: id, Secret: b})
	}
	t.Origins = splitList(get("CALORE_TRACKING_ORIGINS", ""))
	for _, p := range splitList(get("CALORE_TRACKING_TRUSTED_PROXIES", "")) {
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			addr, aerr := netip.ParseAddr(p)
			if aerr != nil {
				problems = append(problems, fmt.Errorf("CALORE_TRACKING_TRUSTED_PROXIES: %q is neither a CIDR nor an address", p))
				continue
			}
			pfx = netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen())
		}
		t.TrustedProxies = append(t.TrustedProxies, pfx.Masked())
	}
	return t, problems
}

// RequireKeys is what `calore serve` checks before it mounts the tracking
// endpoints: keys configured, or the development key asked for explicitly.
func (t Tracking) RequireKeys() error {
	if len(t.Keys) == 0 {
		return errors.New("CALORE_TRACKING_KEYS is unset: set tracking keys (docs/tracking.md), or CALORE_TRACKING_DEV_KEY=1 on a development machine to use the public development key")
	}
	return nil
}

func mustBase64(s string) string {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		panic(err) // a constant of this file
	}
	return string(b)
}

// Validate reports every problem of the tracking settings, joined. No keys
// at all is not a problem here (only `calore serve` needs them:
// RequireKeys).
func (t Tracking) Validate() error {
	var errs []error
	seen := map[string]bool{}
	for _, k := range t.Keys {
		if !keyIDPattern.MatchString(k.ID) {
			errs = append(errs, fmt.Errorf("CALORE_TRACKING_KEYS: key id %q: want 1-16 letters, digits, '-' or '_'", k.ID))
		}
		if seen[k.ID] {
			errs = append(errs, fmt.Errorf("CALORE_TRACKING_KEYS: key id %q appears twice", k.ID))
		}
		seen[k.ID] = true
		if len(k.Secret) < 32 {
			errs = append(errs, fmt.Errorf("CALORE_TRACKING_KEYS: key %q: secret has %d bytes, want at least 32", k.ID, len(k.Secret)))
		}
	}
	for _, o := range t.Origins {
		if o == "*" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			errs = append(errs, fmt.Errorf("CALORE_TRACKING_ORIGINS: %q is not an origin like https://www.example.edu", o))
		}
	}
	if t.SpoolDir == "" {
		errs = append(errs, errors.New("CALORE_SPOOL_DIR: empty"))
	}
	return errors.Join(errs...)
}

// defaultSpoolDir is .stack/spool inside a checkout running the local stack,
// else ./spool.
func defaultSpoolDir() string {
	if fi, err := os.Stat(".stack"); err == nil && fi.IsDir() {
		return ".stack/spool"
	}
	return "spool"
}

// redact keeps a malformed key entry's secret out of error messages.
func redact(s string) string {
	if len(s) > 4 {
		return s[:4] + "…"
	}
	return s
}

func hostPorts(key string, addrs []string) error {
	if len(addrs) == 0 {
		return fmt.Errorf("%s: empty", key)
	}
	for _, a := range addrs {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return fmt.Errorf("%s: %q: %w", key, a, err)
		}
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
