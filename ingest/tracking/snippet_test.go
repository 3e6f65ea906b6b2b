package tracking

import (
	"encoding/json"
	"net/url"
	"os/exec"
	"testing"

	"github.com/calore-crm/calore"
)

// TestSnippet runs calore.js in node against a stub browser
// (testdata/snippet_harness.js) arriving from a tracked email link, and
// posts what it sent to the real beacon handler: the snippet and the
// handler agree on the body, the contact token from the link identifies the
// browser and leaves the address bar, and the anonymous id persists.
func TestSnippet(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the snippet is checked only where it is")
	}
	s := newTestServer(t)
	ident, _ := s.keys.IdentifyToken(77)
	landing := "https://www.example.edu/alumni?x=1&calore_id=" + url.QueryEscape(ident)
	out, err := exec.Command(node, "testdata/snippet_harness.js", "calore.js", landing).Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var run struct {
		Sent []struct {
			URL  string          `json:"url"`
			Type string          `json:"type"`
			Body json.RawMessage `json:"body"`
		} `json:"sent"`
		Store    map[string]string `json:"store"`
		Replaced []string          `json:"replaced"`
	}
	if err := json.Unmarshal(out, &run); err != nil {
		t.Fatalf("harness output %s: %v", out, err)
	}
	if len(run.Sent) != 3 || run.Store["calore_contact"] != ident || len(run.Replaced) != 1 || run.Replaced[0] != "https://www.example.edu/alumni?x=1" {
		t.Fatalf("snippet run: %s", out)
	}
	for _, b := range run.Sent {
		if b.URL != "https://track.example.edu/t/e" || b.Type != "text/plain" {
			t.Errorf("sent to %s as %s", b.URL, b.Type)
		}
		w := s.do("POST", "/t/e", string(b.Body), map[string]string{"Origin": "https://www.example.edu", "Content-Type": "text/plain;charset=UTF-8"})
		if w.Code != 204 {
			t.Errorf("beacon %s: %d %s", b.Body, w.Code, w.Body)
		}
	}
	evs := s.pub.take()
	wantTypes := []string{calore.EventWebPageView, calore.EventWebCustom, calore.EventWebPageView}
	wantURLs := []string{"https://www.example.edu/alumni?x=1", "https://www.example.edu/alumni?x=1", "https://www.example.edu/alumni/events"}
	wantRefs := []string{"https://search.example/", "https://search.example/", "https://www.example.edu/alumni?x=1"}
	if len(evs) != 3 {
		t.Fatalf("recorded %d events, want 3", len(evs))
	}
	for i, ev := range evs {
		h := hitOf(t, ev)
		if ev.Type != wantTypes[i] || ev.AggregateID != "contact:77" || h.ContactID != 77 || h.URL != wantURLs[i] ||
			h.Referrer != wantRefs[i] || h.AnonymousID != run.Store["calore_anon"] {
			t.Errorf("event %d: %+v %+v", i, ev, h)
		}
	}
	if h := hitOf(t, evs[1]); h.Name != "form_submit" || h.Props["form"] != "msc" || h.Props["step"] != "3" {
		t.Errorf("custom event: %+v", h)
	}
}
