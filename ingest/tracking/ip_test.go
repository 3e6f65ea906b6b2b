package tracking

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestTruncateIP(t *testing.T) {
	tests := []struct{ in, want string }{
		{"203.0.113.77", "203.0.113.0"},
		{"10.1.2.3", "10.1.2.0"},
		{"::ffff:198.51.100.9", "198.51.100.0"}, // IPv4-mapped: truncated as IPv4
		{"2001:db8:abcd:12:1:2:3:4", "2001:db8:abcd::"},
		{"2001:db8::1", "2001:db8::"},
		{"fe80::1%eth0", "fe80::"},
		{"::1", "::"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := TruncateIP(netip.MustParseAddr(tt.in)); got != tt.want {
				t.Errorf("TruncateIP(%s) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	if got := TruncateIP(netip.Addr{}); got != "" {
		t.Errorf("zero address: %q", got)
	}
}

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48")}
	tests := []struct {
		name   string
		remote string
		xff    []string
		want   string
	}{
		{"direct client, no header", "203.0.113.5:4242", nil, "203.0.113.5"},
		{"untrusted peer's XFF ignored", "203.0.113.5:4242", []string{"198.51.100.1"}, "203.0.113.5"},
		{"trusted proxy", "10.0.0.2:80", []string{"198.51.100.1"}, "198.51.100.1"},
		{"client-supplied hop left of the real one ignored", "10.0.0.2:80", []string{"1.2.3.4, 198.51.100.1"}, "198.51.100.1"},
		{"chain of trusted proxies", "10.0.0.2:80", []string{"198.51.100.1, 10.0.0.9", "10.0.0.3"}, "198.51.100.1"},
		{"all hops trusted", "10.0.0.2:80", []string{"10.0.0.7"}, "10.0.0.7"},
		{"malformed hop stops the walk", "10.0.0.2:80", []string{"198.51.100.1, garbage"}, "10.0.0.2"},
		{"ipv6 peer", "[2001:db8:1::5]:443", nil, "2001:db8:1::5"},
		{"ipv6 trusted proxy", "[2001:db8:ffff::1]:443", []string{"2001:db8:2::9"}, "2001:db8:2::9"},
		{"mapped v4 peer", "[::ffff:203.0.113.5]:1", nil, "203.0.113.5"},
		{"xff with port", "10.0.0.2:80", []string{"198.51.100.1:5555"}, "198.51.100.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := ClientIP(r, trusted); got.String() != tt.want {
				t.Errorf("ClientIP = %s, want %s", got, tt.want)
			}
		})
	}
}
