// Runs calore.js in node with a stub browser (window, document,
// localStorage, navigator.sendBeacon, history) and prints, as JSON, what
// it sent and what it stored. Used by TestSnippet (snippet_test.go).
"use strict";
const fs = require("fs");
const vm = require("vm");

const code = fs.readFileSync(process.argv[2], "utf8");
const sent = [];
const store = {};
const replaced = [];
const win = {
  location: { href: process.argv[3] },
  localStorage: {
    getItem: (k) => (k in store && store[k] !== undefined ? store[k] : null),
    setItem: (k, v) => { store[k] = String(v); },
  },
  history: {
    state: null,
    replaceState: (s, t, u) => { replaced.push(u); win.location.href = u; },
    pushState: (s, t, u) => { win.location.href = new URL(u, win.location.href).toString(); },
  },
  addEventListener: () => {},
  crypto: globalThis.crypto,
};
const doc = { currentScript: { src: "https://track.example.edu/t/calore.js" }, referrer: "https://search.example/" };
const nav = {
  sendBeacon: (url, blob) => { sent.push({ url, type: blob.type, blob }); return true; },
};
const ctx = { window: win, document: doc, navigator: nav, URL, Blob, JSON, Math, String, fetch: () => {} };
ctx.window.window = ctx.window;
vm.createContext(ctx);
vm.runInContext(code, ctx);
ctx.window.calore.track("form_submit", { form: "msc", step: 3 });
ctx.window.history.pushState(null, "", "/alumni/events");
(async () => {
  const bodies = [];
  for (const s of sent) bodies.push({ url: s.url, type: s.type, body: JSON.parse(await s.blob.text()) });
  process.stdout.write(JSON.stringify({ sent: bodies, store, replaced }));
})();
