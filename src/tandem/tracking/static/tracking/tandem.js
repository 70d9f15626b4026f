/*! Tandem tracking script: page views, identify and custom events for one source.
 *
 * <script async src="https://tandem.example.com/static/tracking/tandem.js"
 *         data-key="tdmw_..." data-endpoint="https://tandem.example.com/api/v1/events"></script>
 *
 * Keeps a random first-party anonymous id (128 bits) in localStorage and the `tdm_aid` cookie,
 * sends a page view on load, and offers window.tandem.identify(email, traits),
 * window.tandem.track(name, properties) and window.tandem.page(). Events are batched and sent
 * with fetch(keepalive). Nothing here may break the host page: every entry point catches.
 */
(function () {
  "use strict";

  var COOKIE = "tdm_aid";
  var STORE = "tdm_aid";
  var TWO_YEARS = 2 * 365 * 24 * 3600;
  var ID_RULE = /^[A-Za-z0-9_-]{16,64}$/;
  var MAX_BATCH = 20; // keepalive bodies are capped at 64 KB in flight
  var FLUSH_DELAY_MS = 200;

  function noop() {}

  function randomHex() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    var out = "";
    for (var i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    return out;
  }

  function readCookie() {
    var parts = (document.cookie || "").split(";");
    for (var i = 0; i < parts.length; i++) {
      var pair = parts[i].trim().split("=");
      if (pair[0] === COOKIE) return decodeURIComponent(pair.slice(1).join("="));
    }
    return "";
  }

  function anonymousId() {
    var id = "";
    try { id = window.localStorage.getItem(STORE) || ""; } catch (e) { id = ""; }
    if (!ID_RULE.test(id)) id = readCookie();
    if (!ID_RULE.test(id)) id = randomHex();
    try { window.localStorage.setItem(STORE, id); } catch (e) { /* storage blocked */ }
    try {
      var secure = window.location.protocol === "https:" ? "; Secure" : "";
      document.cookie = COOKIE + "=" + id + "; Max-Age=" + TWO_YEARS + "; Path=/; SameSite=Lax" + secure;
    } catch (e) { /* cookies blocked */ }
    return id;
  }

  function ownScript() {
    var current = document.currentScript;
    if (current && current.getAttribute("data-key")) return current;
    var scripts = document.querySelectorAll("script[data-key]");
    for (var i = 0; i < scripts.length; i++) {
      if (/\/tandem\.js(\?|#|$)/.test(scripts[i].src || "")) return scripts[i];
    }
    return null;
  }

  function utmTags() {
    var tags = {};
    try {
      new URLSearchParams(window.location.search).forEach(function (value, key) {
        var name = key.trim().toLowerCase();
        if (name.indexOf("utm_") === 0 && value) tags[name.slice(4)] = value;
      });
    } catch (e) { /* old browser: no tags */ }
    return tags;
  }

  function start() {
    var script = ownScript();
    var key = script ? script.getAttribute("data-key") : "";
    if (!key) return null;
    var endpoint = script.getAttribute("data-endpoint") || new URL(script.src).origin + "/api/v1/events";
    var aid = anonymousId();
    var queue = [];
    var timer = null;

    function send(events) {
      try {
        window.fetch(endpoint, {
          method: "POST",
          mode: "cors",
          credentials: "omit",
          keepalive: true,
          headers: { "Authorization": "Bearer " + key, "Content-Type": "application/json" },
          body: JSON.stringify({ events: events })
        }).catch(noop);
      } catch (e) { /* fetch missing or refused: the events are dropped */ }
    }

    function flush() {
      if (timer !== null) { window.clearTimeout(timer); timer = null; }
      while (queue.length) send(queue.splice(0, MAX_BATCH));
    }

    function enqueue(type, fields) {
      var event = {
        event_id: randomHex(),
        type: type,
        occurred_at: new Date().toISOString(),
        anonymous_id: aid,
        properties: fields.properties || {},
        context: { url: window.location.href, referrer: document.referrer || "", utm: utmTags() }
      };
      if (fields.email) event.email = String(fields.email);
      queue.push(event);
      if (queue.length >= MAX_BATCH) flush();
      else if (timer === null) timer = window.setTimeout(flush, FLUSH_DELAY_MS);
    }

    function plain(value) {
      return value && typeof value === "object" && !Array.isArray(value) ? value : {};
    }

    // The page may be leaving: send what is queued while keepalive still can.
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") flush();
    });
    window.addEventListener("pagehide", flush);

    return {
      anonymousId: function () { return aid; },
      page: function (properties) {
        var fields = plain(properties);
        if (!("title" in fields) && document.title) fields = Object.assign({ title: document.title }, fields);
        enqueue("page_view", { properties: fields });
      },
      identify: function (email, traits) {
        if (email) enqueue("identify", { email: email, properties: { traits: plain(traits) } });
      },
      track: function (name, properties) {
        if (name) enqueue("custom:" + String(name).slice(0, 64), { properties: plain(properties) });
      },
      flush: flush
    };
  }

  function guarded(fn) {
    return function () {
      try { return fn.apply(null, arguments); } catch (e) { return undefined; }
    };
  }

  var api = null;
  try { api = start(); } catch (e) { api = null; }
  var methods = ["page", "identify", "track", "flush", "anonymousId"];
  var tandem = {};
  for (var i = 0; i < methods.length; i++) {
    tandem[methods[i]] = api ? guarded(api[methods[i]]) : noop;
  }
  window.tandem = tandem;
  if (api) { try { api.page(); } catch (e) { /* never into the host page */ } }
})();
