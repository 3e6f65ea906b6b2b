package tracking

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientIP is the address of the client behind r: the connection's peer,
// unless that peer is a trusted proxy, in which case X-Forwarded-For is read
// from the right, skipping trusted proxies, and the first untrusted address is
// the client. Headers from untrusted peers are ignored, so a client cannot
// choose the address recorded for it. The zero Addr means unknown.
func ClientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer := parseAddr(r.RemoteAddr)
	if !peer.IsValid() || !contains(trusted, peer) {
		return peer
	}
	hops := r.Header.Values("X-Forwarded-For")
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		parts := strings.Split(hops[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			a := parseAddr(strings.TrimSpace(parts[j]))
			if !a.IsValid() {
				return client // malformed hop: trust nothing further left
			}
			client = a
			if !contains(trusted, a) {
				return a
			}
		}
	}
	return client
}

// parseAddr reads "1.2.3.4", "1.2.3.4:5678", "[2001:db8::1]:80" or
// "2001:db8::1"; IPv4-mapped IPv6 becomes IPv4; zones are dropped.
func parseAddr(s string) netip.Addr {
	if s == "" {
		return netip.Addr{}
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone("")
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		if a, err := netip.ParseAddr(host); err == nil {
			return a.Unmap().WithZone("")
		}
	}
	return netip.Addr{}
}

func contains(prefixes []netip.Prefix, a netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// TruncateIP is the only form of a client address that Calore stores or
// sends: the address of its IPv4 /24 or IPv6 /48 network, e.g. "203.0.113.0",
// "2001:db8:1::" (as in docs/events.md). An invalid address gives "".
func TruncateIP(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	a = a.Unmap().WithZone("")
	bits := 48
	if a.Is4() {
		bits = 24
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return ""
	}
	return p.Addr().String()
}
