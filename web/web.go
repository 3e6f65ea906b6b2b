// Package web is the HTTP edge of `calore serve`, shared by the REST API,
// the login, the dashboards and the tracking endpoints: the security
// headers every response carries (a strict Content-Security-Policy among
// them), the one same-origin rule for requests that change data, local
// redirects, and the check that text parameters can be stored
// (docs/access.md, "The HTTP edge").
package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// CSP is the Content-Security-Policy of every response: scripts, styles,
// images and fetches from this origin only, no inline script or style, no
// eval, no plugins, no framing, forms posting only here. Pages pass data to
// their scripts as JSON in <script type="application/json"> elements (which
// the browser never runs) and style elements only through classes and the
// CSSOM.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; manifest-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Options configure the edge.
type Options struct {
	// PublicURL is the address users open Calore at (CALORE_PUBLIC_URL),
	// e.g. https://crm.example.edu behind a TLS-terminating proxy: its scheme
	// and host are this site's origin. Nil: the origin of each request as
	// served (https over TLS, else http, and its Host).
	PublicURL *url.URL
	// Invalid answers a request refused for bad input (400) in the caller's
	// error shape; nil writes plain text.
	Invalid func(w http.ResponseWriter, r *http.Request, field, message string)
}

type originKey struct{}

// Handler wraps next with the edge: security headers on every response,
// Cache-Control: no-store unless the handler sets its own (static assets
// do), the site's origin in the request context for SameOrigin, and a 400
// naming the parameter when a query parameter holds a NUL byte or invalid
// UTF-8 (PostgreSQL refuses to store either).
func Handler(opt Options, next http.Handler) http.Handler {
	invalid := opt.Invalid
	if invalid == nil {
		invalid = func(w http.ResponseWriter, _ *http.Request, _, msg string) { http.Error(w, msg, http.StatusBadRequest) }
	}
	var public string
	if opt.PublicURL != nil {
		public = origin(opt.PublicURL.Scheme, opt.PublicURL.Host)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		if r.TLS != nil || strings.HasPrefix(public, "https:") {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if public != "" {
			r = r.WithContext(context.WithValue(r.Context(), originKey{}, public))
		}
		if field := BadText(r.URL.Query()); field != "" {
			invalid(w, r, field, "query parameter "+field+" holds a NUL byte or is not UTF-8 text")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Origin is this site's origin as the browser sees it: the configured
// public URL's when Handler has one, else the request's own scheme (https
// over TLS, else http) and Host.
func Origin(r *http.Request) string {
	if o, ok := r.Context().Value(originKey{}).(string); ok {
		return o
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return origin(scheme, r.Host)
}

// SameOrigin is the one rule for requests that change data with a cookie
// (forms, the login): the browser's Origin header, or without one its
// Referer, must name this site's scheme and host (Origin(r)). "null" is
// accepted only when the browser itself says the request is same-origin
// (Sec-Fetch-Site). A request with neither header, and no Sec-Fetch-Site
// saying it crossed sites, does not come from a page of another site
// (command-line and API clients).
func SameOrigin(r *http.Request) bool {
	own := Origin(r)
	if o := r.Header.Get("Origin"); o != "" {
		if o == "null" {
			return r.Header.Get("Sec-Fetch-Site") == "same-origin"
		}
		return sameSite(o, own)
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		return sameSite(ref, own)
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
		return true
	}
	return false
}

func sameSite(raw, own string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Host != "" && origin(u.Scheme, u.Host) == own
}

// origin writes scheme://host in lower case, without the scheme's default port.
func origin(scheme, host string) string {
	scheme, host = strings.ToLower(scheme), strings.ToLower(host)
	switch {
	case scheme == "http" && strings.HasSuffix(host, ":80"):
		host = strings.TrimSuffix(host, ":80")
	case scheme == "https" && strings.HasSuffix(host, ":443"):
		host = strings.TrimSuffix(host, ":443")
	}
	return scheme + "://" + host
}

// LocalPath returns next when a browser following it as a redirect stays on
// this site, else fallback. Accepted: a path starting with exactly one '/'
// (not "//" nor "/\", which browsers read as another host), without
// control characters (browsers drop tab and newline, so "/\t/evil" is
// "//evil"), backslashes or a scheme, host or user after parsing.
func LocalPath(next, fallback string) string {
	if len(next) < 1 || next[0] != '/' || len(next) > 2048 || !utf8.ValidString(next) {
		return fallback
	}
	for _, c := range next {
		if c < 0x20 || c == 0x7f || c == '\\' || (c >= 0x80 && c < 0xa0) {
			return fallback
		}
	}
	if strings.HasPrefix(next, "//") {
		return fallback
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") {
		return fallback
	}
	return next
}

// BadText returns the name of the first parameter whose name or value holds
// a NUL byte or invalid UTF-8, which PostgreSQL refuses as text; "" when all
// are fine. Handlers run it on parsed form bodies; Handler on every query.
func BadText(v url.Values) string {
	for k, vs := range v {
		if !okText(k) {
			return strings.ToValidUTF8(strings.ReplaceAll(k, "\x00", `\0`), "?")
		}
		for _, s := range vs {
			if !okText(s) {
				return k
			}
		}
	}
	return ""
}

func okText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }
