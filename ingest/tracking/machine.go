package tracking

import (
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Machine-hit reasons (calore.TrackingHit.MachineReason).
const (
	ReasonEmptyUA          = "empty-ua"
	ReasonAppleMPP         = "apple-mpp"
	ReasonGoogleProxy      = "google-image-proxy"
	ReasonMailProxy        = "mail-proxy"
	ReasonScannerUA        = "scanner-ua"
	ReasonBotUA            = "bot-ua"
	ReasonHead             = "head-request"
	ReasonFastOpen         = "prefetch-fast-open"
	ReasonFastClick        = "scanner-fast-click"
	ReasonClickAfterOpen   = "scanner-click-after-open"
	ReasonClickBurst       = "scanner-click-burst"
	defaultRecentSends     = 100_000
	defaultFastOpen        = 2 * time.Second
	defaultFastClick       = 10 * time.Second
	defaultClickAfterOpen  = 2 * time.Second
	defaultBurstWindow     = 2 * time.Second
	defaultBurstMinClicks  = 3
	appleProxyUA           = "Mozilla/5.0" // Apple Mail Privacy Protection's prefetch sends exactly this
	maxStoredUserAgentSize = 512
)

// Known privacy-proxy address ranges for opens (prefetching proxies, not
// people): Apple's 17.0.0.0/8 (Mail Privacy Protection), Google's image proxy
// (ggpht) ranges.
var (
	appleRanges  = []netip.Prefix{netip.MustParsePrefix("17.0.0.0/8")}
	googleRanges = []netip.Prefix{netip.MustParsePrefix("66.102.0.0/20"), netip.MustParsePrefix("66.249.80.0/20"), netip.MustParsePrefix("64.233.160.0/19")}
)

// User-agent fragments, lower case.
var (
	googleProxyUA = []string{"googleimageproxy", "via ggpht.com"}
	mailProxyUA   = []string{"yahoomailproxy", "yahoo! slurp", "outlook-ios-linkpreview", "microsoft office existence discovery"}
	scannerUA     = []string{"barracuda", "mimecast", "proofpoint", "urldefense", "safelinks", "symantec", "trendmicro", "trend micro",
		"fortiguard", "sophos", "cisco", "ironport", "forcepoint", "zscaler", "checkpoint", "virustotal", "urlscan", "msnbot-media", "bingpreview"}
	botUA = []string{"bot", "crawl", "spider", "slurp", "curl/", "wget", "python-requests", "python-urllib", "aiohttp", "go-http-client",
		"java/", "okhttp", "libwww", "httpclient", "headlesschrome", "phantomjs", "lighthouse", "preview", "facebookexternalhit", "whatsapp",
		"scrapy", "node-fetch", "axios/", "monitor", "pingdom", "uptime"}
)

// Detector flags machine hits. It keeps, per send, the time of the last open
// and of the latest clicks (bounded: the oldest sends are forgotten first), so
// a click right after an open or a burst of clicks on one send is recognised.
// The state is per process: behind several `calore serve` replicas without
// sticky routing, the open-then-click rules see only their replica's hits.
type Detector struct {
	FastOpen       time.Duration // open this soon after the send: prefetch
	FastClick      time.Duration // click this soon after the send: scanner
	ClickAfterOpen time.Duration // click this soon after an open of the same send: scanner
	BurstWindow    time.Duration // BurstMinClicks clicks of one send within this: scanner
	BurstMinClicks int

	mu     sync.Mutex
	recent map[int64]*sendState
	order  []int64 // ring of send ids, oldest first from pos
	pos    int
}

type sendState struct {
	lastOpen time.Time
	clicks   [defaultBurstMinClicks]time.Time // ring of the latest clicks
	nclicks  int
}

// NewDetector returns a Detector with the documented defaults, remembering at
// most maxSends sends (0: 100,000).
func NewDetector(maxSends int) *Detector {
	if maxSends <= 0 {
		maxSends = defaultRecentSends
	}
	return &Detector{
		FastOpen: defaultFastOpen, FastClick: defaultFastClick, ClickAfterOpen: defaultClickAfterOpen,
		BurstWindow: defaultBurstWindow, BurstMinClicks: defaultBurstMinClicks,
		recent: make(map[int64]*sendState), order: make([]int64, maxSends),
	}
}

// Hit is what the Detector looks at.
type Hit struct {
	Method    string
	UserAgent string
	IP        netip.Addr // the full address, used here only and never stored
	Now       time.Time
	Token     Token // email hits
}

// Open classifies an email open and remembers it for the click rules.
func (d *Detector) Open(h Hit) (bool, string) {
	d.recordOpen(h.Token.SendID, h.Now)
	ua := strings.ToLower(h.UserAgent)
	switch {
	case h.Method == http.MethodHead:
		return true, ReasonHead
	case h.UserAgent == "":
		return true, ReasonEmptyUA
	case h.UserAgent == appleProxyUA || contains(appleRanges, h.IP):
		return true, ReasonAppleMPP
	case hasAny(ua, googleProxyUA) || contains(googleRanges, h.IP):
		return true, ReasonGoogleProxy
	case hasAny(ua, mailProxyUA):
		return true, ReasonMailProxy
	case hasAny(ua, scannerUA):
		return true, ReasonScannerUA
	case hasAny(ua, botUA):
		return true, ReasonBotUA
	case d.FastOpen > 0 && h.Now.Sub(h.Token.Issued) < d.FastOpen:
		return true, ReasonFastOpen
	}
	return false, ""
}

// Click classifies a link click and remembers it for the burst rule.
func (d *Detector) Click(h Hit) (bool, string) {
	lastOpen, burst := d.click(h.Token.SendID, h.Now)
	ua := strings.ToLower(h.UserAgent)
	switch {
	case h.Method == http.MethodHead:
		return true, ReasonHead
	case h.UserAgent == "":
		return true, ReasonEmptyUA
	case hasAny(ua, scannerUA) || hasAny(ua, mailProxyUA):
		return true, ReasonScannerUA
	case hasAny(ua, botUA):
		return true, ReasonBotUA
	case d.FastClick > 0 && h.Now.Sub(h.Token.Issued) < d.FastClick:
		return true, ReasonFastClick
	case d.ClickAfterOpen > 0 && !lastOpen.IsZero() && h.Now.Sub(lastOpen) >= 0 && h.Now.Sub(lastOpen) < d.ClickAfterOpen:
		return true, ReasonClickAfterOpen
	case burst:
		return true, ReasonClickBurst
	}
	return false, ""
}

// Web classifies a web beacon by its user agent.
func (d *Detector) Web(h Hit) (bool, string) {
	ua := strings.ToLower(h.UserAgent)
	switch {
	case h.UserAgent == "":
		return true, ReasonEmptyUA
	case hasAny(ua, botUA) || hasAny(ua, scannerUA):
		return true, ReasonBotUA
	}
	return false, ""
}

// recordOpen remembers an open of a send at now.
func (d *Detector) recordOpen(sendID int64, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.lookup(sendID).lastOpen = now
}

// click records a click at now and returns the send's last open and whether
// this click completes a burst.
func (d *Detector) click(sendID int64, now time.Time) (time.Time, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := d.lookup(sendID)
	n := d.BurstMinClicks
	if n > len(st.clicks) {
		n = len(st.clicks)
	}
	st.clicks[st.nclicks%len(st.clicks)] = now
	st.nclicks++
	burst := false
	if n > 1 && st.nclicks >= n {
		oldest := st.clicks[(st.nclicks-n)%len(st.clicks)]
		burst = now.Sub(oldest) < d.BurstWindow
	}
	return st.lastOpen, burst
}

// lookup must be called with d.mu held.
func (d *Detector) lookup(sendID int64) *sendState {
	if st, ok := d.recent[sendID]; ok {
		return st
	}
	if len(d.recent) >= len(d.order) {
		delete(d.recent, d.order[d.pos])
	}
	d.order[d.pos] = sendID
	d.pos = (d.pos + 1) % len(d.order)
	st := &sendState{}
	d.recent[sendID] = st
	return st
}

func hasAny(s string, parts []string) bool {
	for _, p := range parts {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// clip shortens s to at most n bytes (user agents, stored as sent).
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
