package tracking

import (
	"net/netip"
	"testing"
	"time"
)

const (
	iphoneMail = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"
	firefox    = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
	gmailProxy = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
)

func TestDetectorOpen(t *testing.T) {
	sent := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	later := sent.Add(time.Hour)
	home := netip.MustParseAddr("198.51.100.20")
	tests := []struct {
		name   string
		hit    Hit
		reason string // "" = human
	}{
		{"person in a mail app", Hit{Method: "GET", UserAgent: iphoneMail, IP: home, Now: later}, ""},
		{"apple MPP user agent", Hit{Method: "GET", UserAgent: "Mozilla/5.0", IP: home, Now: later}, ReasonAppleMPP},
		{"apple address range", Hit{Method: "GET", UserAgent: iphoneMail, IP: netip.MustParseAddr("17.58.1.2"), Now: later}, ReasonAppleMPP},
		{"gmail image proxy UA", Hit{Method: "GET", UserAgent: gmailProxy, IP: home, Now: later}, ReasonGoogleProxy},
		{"google proxy range", Hit{Method: "GET", UserAgent: firefox, IP: netip.MustParseAddr("66.102.8.1"), Now: later}, ReasonGoogleProxy},
		{"yahoo proxy", Hit{Method: "GET", UserAgent: "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html", IP: home, Now: later}, ReasonMailProxy},
		{"security scanner", Hit{Method: "GET", UserAgent: "Barracuda Sentinel (EE)", IP: home, Now: later}, ReasonScannerUA},
		{"bot", Hit{Method: "GET", UserAgent: "curl/8.5.0", IP: home, Now: later}, ReasonBotUA},
		{"empty UA", Hit{Method: "GET", IP: home, Now: later}, ReasonEmptyUA},
		{"HEAD", Hit{Method: "HEAD", UserAgent: iphoneMail, IP: home, Now: later}, ReasonHead},
		{"prefetch right after send", Hit{Method: "GET", UserAgent: iphoneMail, IP: home, Now: sent.Add(time.Second)}, ReasonFastOpen},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.hit.Token = Token{Kind: KindOpen, CampaignID: 1, SendID: int64(i + 1), ContactID: 1, Issued: sent}
			machine, reason := NewDetector(10).Open(tt.hit)
			if machine != (tt.reason != "") || reason != tt.reason {
				t.Errorf("Open = %v %q, want %q", machine, reason, tt.reason)
			}
		})
	}
}

func TestDetectorClick(t *testing.T) {
	sent := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	later := sent.Add(time.Hour)
	home := netip.MustParseAddr("198.51.100.20")
	type step struct {
		open   bool // an open of the send, not a click
		at     time.Time
		ua     string
		method string
		reason string
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"person clicks an hour later", []step{{at: later, ua: firefox, reason: ""}}},
		{"scanner clicks seconds after send", []step{{at: sent.Add(3 * time.Second), ua: firefox, reason: ReasonFastClick}}},
		{"HEAD request", []step{{at: later, ua: firefox, method: "HEAD", reason: ReasonHead}}},
		{"scanner UA", []step{{at: later, ua: "Mozilla/5.0 (compatible; Proofpoint URL Defense)", reason: ReasonScannerUA}}},
		{"bot UA", []step{{at: later, ua: "python-requests/2.31", reason: ReasonBotUA}}},
		{"click within a second of the open", []step{
			{open: true, at: later, ua: firefox},
			{at: later.Add(500 * time.Millisecond), ua: firefox, reason: ReasonClickAfterOpen},
		}},
		{"click a minute after the open", []step{
			{open: true, at: later, ua: firefox},
			{at: later.Add(time.Minute), ua: firefox, reason: ""},
		}},
		{"burst of clicks on one send", []step{
			{at: later, ua: firefox, reason: ""},
			{at: later.Add(100 * time.Millisecond), ua: firefox, reason: ""},
			{at: later.Add(200 * time.Millisecond), ua: firefox, reason: ReasonClickBurst},
		}},
		{"three clicks spread out", []step{
			{at: later, ua: firefox, reason: ""},
			{at: later.Add(time.Minute), ua: firefox, reason: ""},
			{at: later.Add(2 * time.Minute), ua: firefox, reason: ""},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDetector(10)
			for i, s := range tt.steps {
				method := s.method
				if method == "" {
					method = "GET"
				}
				h := Hit{Method: method, UserAgent: s.ua, IP: home, Now: s.at, Token: Token{Kind: KindClick, CampaignID: 1, SendID: 42, ContactID: 1, Issued: sent}}
				if s.open {
					d.Open(h)
					continue
				}
				machine, reason := d.Click(h)
				if machine != (s.reason != "") || reason != s.reason {
					t.Errorf("step %d: Click = %v %q, want %q", i, machine, reason, s.reason)
				}
			}
		})
	}
}

func TestDetectorWeb(t *testing.T) {
	tests := []struct{ ua, reason string }{
		{firefox, ""},
		{"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", ReasonBotUA},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0 Safari/537.36", ReasonBotUA},
		{"", ReasonEmptyUA},
	}
	for _, tt := range tests {
		if machine, reason := NewDetector(1).Web(Hit{UserAgent: tt.ua}); machine != (tt.reason != "") || reason != tt.reason {
			t.Errorf("Web(%q) = %v %q, want %q", tt.ua, machine, reason, tt.reason)
		}
	}
}

func TestDetectorForgetsOldestSends(t *testing.T) {
	d := NewDetector(2)
	now := time.Now()
	for id := int64(1); id <= 5; id++ {
		d.Open(Hit{UserAgent: firefox, Now: now, Token: Token{SendID: id}})
	}
	if len(d.recent) != 2 {
		t.Errorf("remembers %d sends, want 2", len(d.recent))
	}
	if _, ok := d.recent[5]; !ok {
		t.Error("newest send forgotten")
	}
}
