package tracking

import (
	"bytes"
	"crypto/rand"
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/calore-crm/calore"
)

// Publisher takes tracking events and must not block on Kafka
// (*Producer is the real one).
type Publisher interface {
	Publish(ev calore.Event) error
}

// Options are what the tracking endpoints need.
type Options struct {
	Keys           *Keys
	Publisher      Publisher
	Detector       *Detector      // nil: NewDetector(0)
	Origins        []string       // may POST /t/e from a browser; "*" allows any
	TrustedProxies []netip.Prefix // whose X-Forwarded-For is believed
	Logger         *slog.Logger
	Metrics        *Metrics
	Now            func() time.Time // nil: time.Now
}

// Limits of the web beacon.
const (
	MaxBeaconBytes    = 16 << 10
	maxAnonymousIDLen = 64
	maxNameLen        = 128
	maxProps          = 32
	maxPropKeyLen     = 64
	maxPropValueLen   = 512
)

// transparentGIF is a 1×1 transparent GIF (43 bytes).
var transparentGIF = []byte{
	0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
}

//go:embed calore.js
var snippet []byte

type handler struct {
	Options
	origins map[string]bool
	anyOrig bool
	hits    map[string][2]prometheus.Counter // by type, [human, machine]
}

// Routes returns the tracking endpoints, to be mounted at /t:
//
//	GET|HEAD /o/{token}  email open: 1×1 GIF
//	GET|HEAD /c/{token}  link click: 302 to the token's URL
//	POST     /e          web beacon (JSON), OPTIONS for CORS preflight
//	GET      /calore.js  the browser snippet
//
// A token that does not verify records nothing and gets 404.
func Routes(o Options) (http.Handler, error) {
	if o.Keys == nil || o.Publisher == nil || o.Logger == nil || o.Metrics == nil {
		return nil, errors.New("tracking routes: keys, publisher, logger and metrics are required")
	}
	if o.Detector == nil {
		o.Detector = NewDetector(0)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	h := &handler{Options: o, origins: map[string]bool{}, hits: map[string][2]prometheus.Counter{}}
	for _, typ := range []string{calore.EventEmailOpen, calore.EventEmailClick, calore.EventWebPageView, calore.EventWebCustom} {
		h.hits[typ] = [2]prometheus.Counter{o.Metrics.Hits.WithLabelValues(typ, "false"), o.Metrics.Hits.WithLabelValues(typ, "true")}
	}
	for _, origin := range o.Origins {
		if origin == "*" {
			h.anyOrig = true
		}
		h.origins[strings.TrimSuffix(origin, "/")] = true
	}
	r := chi.NewRouter()
	r.Get("/o/{token}", h.open)
	r.Head("/o/{token}", h.open)
	r.Get("/c/{token}", h.click)
	r.Head("/c/{token}", h.click)
	r.Post("/e", h.beacon)
	r.Options("/e", h.preflight)
	r.Get("/calore.js", h.script)
	return r, nil
}

func (h *handler) open(w http.ResponseWriter, r *http.Request) {
	tok, ok := h.token(w, r, "open", KindOpen)
	if !ok {
		return
	}
	now := h.Now()
	ip := ClientIP(r, h.TrustedProxies)
	machine, reason := h.Detector.Open(Hit{Method: r.Method, UserAgent: r.UserAgent(), IP: ip, Now: now, Token: tok})
	if !h.record(now, calore.EventEmailOpen, tok.Seed, calore.TrackingHit{
		ContactID: tok.ContactID, CampaignID: tok.CampaignID, SendID: tok.SendID,
		UserAgent: clip(r.UserAgent(), maxStoredUserAgentSize), IPPrefix: TruncateIP(ip),
		IsMachine: machine, MachineReason: reason,
	}) {
		// a 2xx promises the hit is durable; this one is not
		noCache(w.Header())
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "image/gif")
	hd.Set("Content-Length", strconv.Itoa(len(transparentGIF)))
	noCache(hd)
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(transparentGIF)
	}
}

func (h *handler) click(w http.ResponseWriter, r *http.Request) {
	tok, ok := h.token(w, r, "click", KindClick)
	if !ok {
		return
	}
	target := tok.URL
	if tok.Identify {
		id, err := h.Keys.IdentifyToken(tok.ContactID)
		if err != nil {
			h.Logger.Error("tracking: identify token", "err", err)
		} else if u, err := url.Parse(target); err == nil {
			q := u.Query()
			q.Set("calore_id", id)
			u.RawQuery = q.Encode()
			target = u.String()
		}
	}
	now := h.Now()
	ip := ClientIP(r, h.TrustedProxies)
	machine, reason := h.Detector.Click(Hit{Method: r.Method, UserAgent: r.UserAgent(), IP: ip, Now: now, Token: tok})
	h.record(now, calore.EventEmailClick, tok.Seed, calore.TrackingHit{
		ContactID: tok.ContactID, CampaignID: tok.CampaignID, SendID: tok.SendID, URL: tok.URL,
		UserAgent: clip(r.UserAgent(), maxStoredUserAgentSize), IPPrefix: TruncateIP(ip),
		IsMachine: machine, MachineReason: reason,
	})
	noCache(w.Header())
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Location", target) // signed, checked http(s) URL: never an open redirect
	w.WriteHeader(http.StatusFound)
}

// token verifies the {token} path parameter; on failure it answers 404 and
// records nothing.
func (h *handler) token(w http.ResponseWriter, r *http.Request, endpoint string, kind Kind) (Token, bool) {
	tok, err := h.Keys.Parse(chi.URLParam(r, "token"))
	if err == nil && tok.Kind != kind {
		err = fmt.Errorf("%w: %c token on the %s endpoint", ErrBadToken, tok.Kind, endpoint)
	}
	if err != nil {
		h.Metrics.Rejected.WithLabelValues(endpoint, "bad-token").Inc()
		h.Logger.Debug("tracking: refused token", "endpoint", endpoint, "err", err)
		noCache(w.Header())
		http.NotFound(w, r)
		return Token{}, false
	}
	return tok, true
}

// beaconRequest is the body of POST /t/e.
type beaconRequest struct {
	Type         string                     `json:"type"` // pageview or event
	AnonymousID  string                     `json:"anonymous_id"`
	ContactToken string                     `json:"contact_token,omitempty"`
	ContactID    json.RawMessage            `json:"contact_id,omitempty"`
	URL          string                     `json:"url"`
	Referrer     string                     `json:"referrer,omitempty"`
	Name         string                     `json:"name,omitempty"`
	Props        map[string]json.RawMessage `json:"props,omitempty"`
}

var (
	anonIDPattern  = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)
	propKeyPattern = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`)
)

func (h *handler) beacon(w http.ResponseWriter, r *http.Request) {
	if !h.cors(w, r) {
		h.Metrics.Rejected.WithLabelValues("beacon", "origin").Inc()
		beaconError(w, http.StatusForbidden, "origin not allowed")
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && mt != "text/plain") {
			h.Metrics.Rejected.WithLabelValues("beacon", "content-type").Inc()
			beaconError(w, http.StatusUnsupportedMediaType, "content type: want application/json or text/plain")
			return
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBeaconBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.Metrics.Rejected.WithLabelValues("beacon", "too-large").Inc()
			beaconError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", MaxBeaconBytes))
			return
		}
		h.Metrics.Rejected.WithLabelValues("beacon", "read").Inc()
		beaconError(w, http.StatusBadRequest, "could not read the body")
		return
	}
	var req beaconRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		h.Metrics.Rejected.WithLabelValues("beacon", "bad-json").Inc()
		beaconError(w, http.StatusBadRequest, "body: "+jsonProblem(err))
		return
	}
	if dec.More() {
		h.Metrics.Rejected.WithLabelValues("beacon", "bad-json").Inc()
		beaconError(w, http.StatusBadRequest, "body: want one JSON object")
		return
	}
	hit, typ, problems := h.validateBeacon(req)
	if len(problems) > 0 {
		h.Metrics.Rejected.WithLabelValues("beacon", "invalid").Inc()
		beaconError(w, http.StatusBadRequest, problems...)
		return
	}
	now := h.Now()
	ip := ClientIP(r, h.TrustedProxies)
	hit.UserAgent = clip(r.UserAgent(), maxStoredUserAgentSize)
	hit.IPPrefix = TruncateIP(ip)
	hit.IsMachine, hit.MachineReason = h.Detector.Web(Hit{Method: r.Method, UserAgent: r.UserAgent(), IP: ip, Now: now})
	if !h.record(now, typ, [seedLen]byte{}, hit) {
		beaconError(w, http.StatusServiceUnavailable, "hit not recorded, retry later")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// validateBeacon checks a beacon and turns it into a hit, or lists every
// problem.
func (h *handler) validateBeacon(req beaconRequest) (calore.TrackingHit, string, []string) {
	var p []string
	hit := calore.TrackingHit{AnonymousID: req.AnonymousID, URL: req.URL, Referrer: req.Referrer, Name: req.Name}
	var typ string
	switch req.Type {
	case "pageview":
		typ = calore.EventWebPageView
		if req.Name != "" || len(req.Props) > 0 {
			p = append(p, "name, props: only for type event")
		}
	case "event":
		typ = calore.EventWebCustom
		if req.Name == "" || len(req.Name) > maxNameLen {
			p = append(p, fmt.Sprintf("name: required for type event, at most %d bytes", maxNameLen))
		}
	default:
		p = append(p, `type: want "pageview" or "event"`)
	}
	if !anonIDPattern.MatchString(req.AnonymousID) {
		p = append(p, "anonymous_id: required, 8-64 letters, digits, '-' or '_'")
	}
	if err := checkPageURL(req.URL, true); err != nil {
		p = append(p, "url: "+err.Error())
	}
	if err := checkPageURL(req.Referrer, false); err != nil {
		p = append(p, "referrer: "+err.Error())
	}
	if len(req.ContactID) > 0 {
		p = append(p, "contact_id: not accepted from browsers (anyone could claim any contact); send contact_token")
	}
	if req.ContactToken != "" {
		tok, err := h.Keys.Parse(req.ContactToken)
		if err != nil || tok.Kind != KindIdentify {
			p = append(p, "contact_token: not a valid identify token")
		} else {
			hit.ContactID = tok.ContactID
		}
	}
	if len(req.Props) > maxProps {
		p = append(p, fmt.Sprintf("props: at most %d", maxProps))
	} else if len(req.Props) > 0 {
		hit.Props = make(map[string]string, len(req.Props))
		for k, raw := range req.Props {
			v, err := propValue(raw)
			switch {
			case !propKeyPattern.MatchString(k):
				p = append(p, fmt.Sprintf("props: key %q: want 1-%d letters, digits, '_', '.', ':' or '-'", clip(k, 80), maxPropKeyLen))
			case err != nil:
				p = append(p, fmt.Sprintf("props.%s: %v", k, err))
			default:
				hit.Props[k] = v
			}
		}
	}
	return hit, typ, p
}

// propValue accepts a string, number or boolean, as a string.
func propValue(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	var v string
	if len(raw) > 0 && raw[0] == '"' {
		if err := json.Unmarshal(raw, &v); err != nil {
			return "", errors.New("malformed string")
		}
	} else {
		var x any
		if err := json.Unmarshal(raw, &x); err != nil {
			return "", errors.New("malformed value")
		}
		switch x.(type) {
		case float64, bool:
			v = string(raw)
		default:
			return "", errors.New("want a string, number or boolean")
		}
	}
	if len(v) > maxPropValueLen {
		return "", fmt.Errorf("longer than %d bytes", maxPropValueLen)
	}
	return v, nil
}

func checkPageURL(s string, required bool) error {
	if s == "" {
		if required {
			return errors.New("required")
		}
		return nil
	}
	if len(s) > maxURLLen {
		return fmt.Errorf("longer than %d bytes", maxURLLen)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("want an absolute http or https URL")
	}
	return nil
}

func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("malformed JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("%s: wrong type (%s)", typ.Field, typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return strings.TrimPrefix(err.Error(), "json: ")
	case errors.Is(err, io.EOF):
		return "empty"
	}
	return "malformed JSON"
}

func beaconError(w http.ResponseWriter, status int, problems ...string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string][]string{"errors": problems})
}

// cors sets the CORS headers for an allowed Origin and reports whether the
// request may go on (no Origin header: not a cross-origin browser request).
func (h *handler) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	w.Header().Add("Vary", "Origin")
	if origin == "" {
		return true
	}
	if !h.anyOrig && !h.origins[origin] {
		return false
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	w.Header().Set("Access-Control-Allow-Credentials", "true") // sendBeacon sends credentials
	return true
}

func (h *handler) preflight(w http.ResponseWriter, r *http.Request) {
	if !h.cors(w, r) || r.Header.Get("Origin") == "" {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	w.Header().Set("Access-Control-Allow-Methods", "POST")
	w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
	w.Header().Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

func (h *handler) script(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(snippet)
}

// record publishes one hit. Hits with a token seed get event ids derived
// from it (name-based UUID of the seed with the hit time and random bytes);
// web hits get random ones. The id is fixed here and travels through queue,
// spool and replay, so a re-sent event keeps its id and the sink drops it.
// It reports whether the hit is durable (the producer's write-ahead log);
// the open and beacon endpoints answer 503 when not, the click endpoint
// redirects anyway (a 302, the reader must reach the page).
func (h *handler) record(now time.Time, typ string, seed [seedLen]byte, hit calore.TrackingHit) bool {
	payload, err := json.Marshal(hit)
	if err != nil {
		h.Logger.Error("tracking: encode hit", "type", typ, "err", err)
		return false
	}
	agg := "anon:" + hit.AnonymousID
	if hit.ContactID > 0 {
		agg = "contact:" + strconv.FormatInt(hit.ContactID, 10)
	}
	ev := calore.Event{
		ID: eventID(seed, now), Type: typ, SchemaVersion: 1, Time: now.UTC(),
		Aggregate: "tracking", AggregateID: agg, Payload: payload,
	}
	if err := h.Publisher.Publish(ev); err != nil {
		h.Logger.Error("tracking: hit not recorded", "type", typ, "event_id", ev.ID, "err", err)
		return false
	}
	i := 0
	if hit.IsMachine {
		i = 1
	}
	h.hits[typ][i].Inc()
	return true
}

func eventID(seed [seedLen]byte, now time.Time) string {
	if seed == [seedLen]byte{} {
		return uuid.NewString()
	}
	var name [16]byte
	binary.BigEndian.PutUint64(name[:8], uint64(now.UnixNano()))
	_, _ = rand.Read(name[8:])
	return uuid.NewSHA1(uuid.UUID(seed), name[:]).String()
}

func noCache(h http.Header) {
	h.Set("Cache-Control", "no-store, no-cache, must-revalidate, private, max-age=0")
	h.Set("Pragma", "no-cache")
	h.Set("Expires", "0")
}
