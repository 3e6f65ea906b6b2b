/* Calore web tracking snippet: <script async src="https://TRACKING-HOST/t/calore.js"></script>
   Sends a page view on load (and on history.pushState navigation) and exposes
   calore.track(name, props). The browser's anonymous id lives in localStorage
   ("calore_anon"); a contact token from a tracked email link (?calore_id=…) is
   kept in "calore_contact" and sent with later hits. docs/tracking.md. */
(function (w, d) {
  "use strict";
  if (w.calore && w.calore._loaded) return;
  var s = d.currentScript, endpoint = "/t/e";
  try { if (s && s.src) endpoint = new URL(s.src).origin + "/t/e"; } catch (e) {}
  var ls = null;
  try { ls = w.localStorage; } catch (e) {}
  function get(k) { try { return ls ? ls.getItem(k) : null; } catch (e) { return null; } }
  function set(k, v) { try { if (ls) ls.setItem(k, v); } catch (e) {} }
  function newID() {
    try { if (w.crypto && w.crypto.randomUUID) return w.crypto.randomUUID(); } catch (e) {}
    var a = "";
    for (var i = 0; i < 32; i++) a += Math.floor(Math.random() * 16).toString(16);
    return a;
  }
  var anon = get("calore_anon");
  if (!anon || !/^[A-Za-z0-9_-]{8,64}$/.test(anon)) { anon = newID(); set("calore_anon", anon); }
  try {
    var u = new URL(w.location.href), t = u.searchParams.get("calore_id");
    if (t) {
      set("calore_contact", t);
      u.searchParams.delete("calore_id");
      if (w.history && w.history.replaceState) w.history.replaceState(w.history.state, "", u.toString());
    }
  } catch (e) {}
  function send(body) {
    var data = JSON.stringify(body);
    try {
      if (navigator.sendBeacon && navigator.sendBeacon(endpoint, new Blob([data], { type: "text/plain" }))) return;
    } catch (e) {}
    try {
      fetch(endpoint, { method: "POST", body: data, headers: { "Content-Type": "text/plain" }, keepalive: true, credentials: "omit", mode: "cors" });
    } catch (e) {}
  }
  // referrer: the document's; on a single-page site's later page views, the page before
  var ref = d.referrer, cur = null;
  function hit(type, name, props) {
    if (type === "pageview") {
      if (cur !== null && cur !== w.location.href) ref = cur;
      cur = w.location.href;
    }
    var b = { type: type, anonymous_id: anon, url: w.location.href };
    if (ref) b.referrer = ref;
    var c = get("calore_contact");
    if (c) b.contact_token = c;
    if (type === "event") { b.name = String(name); if (props) b.props = props; }
    send(b);
  }
  var api = w.calore = w.calore || {};
  api._loaded = true;
  api.track = function (name, props) { hit("event", name, props); };
  api.pageview = function () { hit("pageview"); };
  api.identify = function (contactToken) { set("calore_contact", contactToken); };
  api.anonymousId = function () { return anon; };
  if (w.history && w.history.pushState) {
    var push = w.history.pushState;
    w.history.pushState = function () { var r = push.apply(this, arguments); hit("pageview"); return r; };
    w.addEventListener("popstate", function () { hit("pageview"); });
  }
  hit("pageview");
})(window, document);
