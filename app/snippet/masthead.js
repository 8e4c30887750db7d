/*! Masthead front-page snippet: headline tests on any page. See the README, "Front-page snippet". */
// Hand-written, dependency-free; the API serves masthead.min.js, built from this file by
// `python -m app.snippet build` (jsmin: comments and whitespace out, nothing renamed).
// Written without template literals, which jsmin does not know.
(function () {
  "use strict";
  try {
    var ATTR = "data-masthead-article";
    var SELECTOR = "[" + ATTR + "]";
    var VISIBLE_MS = 1000;  // an impression: at least half the headline in view this long
    var IDLE_MS = 5000;  // engaged time pauses 5 s after the reader's last input (Chartbeat's rule)
    var CLICK_TTL_MS = 1800000;  // a click waits 30 minutes for its article page
    var RETRY_SECONDS = [1, 2, 4, 8, 16];  // between attempts of a failed event batch
    var script = document.currentScript;
    var began = Date.now();

    // Every callback the page or the browser calls goes through safe(): the snippet must
    // never throw into the page, whatever the page, the browser or the network does.
    function safe(fn) {
      return function () {
        try {
          return fn.apply(this, arguments);
        } catch (error) {
          return undefined;
        }
      };
    }

    function option(name, fallback) {
      var value = script && script.getAttribute("data-" + name);
      return value || fallback;
    }

    // The API is where the script came from, unless data-api says otherwise.
    var api = option("api", script && script.src ? new URL(script.src).origin : "").replace(/\/+$/, "");
    var key = option("key", "");
    var budget = +option("budget", 300);
    var storage = option("storage", "local") !== "none";
    var consented = option("consent", "") !== "required" || window.mastheadConsent === true;
    var pageArticle = option("article", "");
    var pageView = randomId();
    var visitor;
    var engagedSeconds = 15;
    var served = new Map();  // element -> the served item, while a test runs
    var seen = {};  // candidate ids with an impression this page view
    var outbox = [];
    var failed = [];  // batches waiting for their next attempt (the same event ids)
    var flushTimer = 0;
    var inView = new Set();
    var timers = new Map();

    function randomId() {
      return Array.from(crypto.getRandomValues(new Uint8Array(12)), function (byte) {
        return (byte + 256).toString(16).slice(1);
      }).join("");
    }

    function load(name) {
      try {
        return storage ? JSON.parse(localStorage.getItem("masthead." + name)) : null;
      } catch (error) {
        return null;
      }
    }

    function save(name, value) {
      try {
        if (storage) localStorage.setItem("masthead." + name, JSON.stringify(value));
      } catch (error) {
        // full or forbidden storage: this page view goes on without it
      }
    }

    function visitorId() {
      var stored = load("visitor");
      if (typeof stored === "string" && /^[\w.:~-]{1,128}$/.test(stored)) return stored;
      var fresh = randomId();
      save("visitor", fresh);
      return fresh;
    }

    // Events ------------------------------------------------------------------------

    function event(type, item, id) {
      return {type: type, experiment_id: item.experiment_id, candidate_id: item.candidate_id,
              visitor: visitor, event_id: id || pageView + ":" + item.candidate_id + ":" + type[0]};
    }

    function queue(events) {
      outbox.push.apply(outbox, events);
      if (!flushTimer) flushTimer = setTimeout(safe(flush), 1000);  // one batch for what comes together
    }

    function eventsUrl() {
      return api + "/v1/events?key=" + encodeURIComponent(key);
    }

    // A string body is sent as text/plain: a "simple" request, so no CORS preflight.
    function body(events) {
      return JSON.stringify({events: events});
    }

    function flush(leaving) {
      clearTimeout(flushTimer);
      flushTimer = 0;
      var batch = outbox;
      outbox = [];
      if (leaving) batch = batch.concat.apply(batch, failed.splice(0));
      if (!batch.length) return;
      if (leaving && navigator.sendBeacon && navigator.sendBeacon(eventsUrl(), body(batch))) return;
      send(batch, 0);
    }

    function send(batch, attempt) {
      fetch(eventsUrl(), {method: "POST", body: body(batch), keepalive: true, credentials: "omit"})
        .then(function (response) {
          if (response.status === 429 || response.status >= 500) throw response.status;
        })
        .catch(function () {
          if (attempt >= RETRY_SECONDS.length) return;
          failed.push(batch);
          setTimeout(safe(function () {
            var index = failed.indexOf(batch);
            if (index < 0) return;  // already sent by a beacon when the page was hidden
            failed.splice(index, 1);
            send(batch, attempt + 1);
          }), RETRY_SECONDS[attempt] * 1000);
        });
    }

    // Serving -----------------------------------------------------------------------

    function serve(elements) {
      var wait = budget - (Date.now() - began);
      if (wait <= 0) return;  // too late for this page view: the defaults stay
      var ids = Array.from(new Set(elements.map(function (element) {
        return element.getAttribute(ATTR);
      }))).slice(0, 100);
      var styles = elements.map(function (element) {
        var before = element.style.visibility;
        element.style.visibility = "hidden";  // keeps the box: nothing below moves
        return before;
      });
      var settled = false;
      var settle = safe(function (answer) {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        try {
          if (answer) swap(elements, answer);
        } finally {  // whatever the answer was, the headlines show again
          elements.forEach(function (element, index) {
            element.style.visibility = styles[index];
          });
        }
      });
      var timer = setTimeout(function () { settle(null); }, wait);
      var query = "articles=" + ids.map(encodeURIComponent).join(",") + "&visitor=" + visitor +
        "&key=" + encodeURIComponent(key);
      fetch(api + "/v1/serve/headlines?" + query, {credentials: "omit"})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(settle, function () { settle(null); });
    }

    function swap(elements, answer) {
      var items = {};
      answer.items.forEach(function (item) { items[item.article_id] = item; });
      if (answer.engaged_seconds > 0) engagedSeconds = answer.engaged_seconds;
      // Read every height, then write: one layout for the page, not one per headline.
      var heights = elements.map(function (element) { return element.offsetHeight; });
      elements.forEach(function (element, index) {
        var item = items[element.getAttribute(ATTR)];
        if (!item || element.children.length) return;  // only text is swapped: markup stays intact
        element.style.minHeight = heights[index] + "px";  // a shorter headline keeps the box
        if (element.textContent !== item.headline) element.textContent = item.headline;
        element.lang = item.language;
        element.dir = item.direction;
        if (item.experiment_id) {
          served.set(element, item);
          observer.observe(element);
        }
      });
    }

    // Impressions: half the headline in the viewport for a second, once per candidate and
    // page view. IntersectionObserver tells when it enters and leaves; the timer runs only
    // while the page is visible.
    var observer = new IntersectionObserver(safe(function (entries) {
      entries.forEach(function (entry) {
        if (entry.intersectionRatio >= 0.5) {
          inView.add(entry.target);
          arm(entry.target);
        } else {
          inView.delete(entry.target);
          disarm(entry.target);
        }
      });
    }), {threshold: 0.5});

    function arm(element) {
      if (document.visibilityState !== "visible" || timers.has(element)) return;
      timers.set(element, setTimeout(safe(function () {
        timers.delete(element);
        var item = served.get(element);
        if (!seen[item.candidate_id]) queue([impression(item)]);
      }), VISIBLE_MS));
    }

    function disarm(element) {
      clearTimeout(timers.get(element));
      timers.delete(element);
    }

    function impression(item) {
      seen[item.candidate_id] = true;
      return event("impression", item);
    }

    function onVisibility() {
      if (document.visibilityState === "visible") {
        inView.forEach(arm);
      } else {
        timers.forEach(function (_timer, element) { disarm(element); });
        flush(true);
      }
    }

    // Clicks: the reader follows the headline's link. The click goes by beacon (it survives
    // the navigation) together with its impression, which the server needs first; the
    // impression keeps its event id, so one already counted is a duplicate, not a second.
    function onClick(clickEvent) {
      var link = clickEvent.target.closest && clickEvent.target.closest("a[href]");
      var element = link && (link.closest(SELECTOR) || link.querySelector(SELECTOR));
      var item = element && served.get(element);
      if (!item) return;
      var click = event("click", item);
      queue([impression(item), click]);
      flush(true);
      remember(item, click.event_id, link.href);
    }

    function remember(item, clickId, href) {
      var clicks = recentClicks();
      clicks[item.article_id] = {e: item.experiment_id, c: item.candidate_id, v: visitor, i: clickId,
                                 s: engagedSeconds, u: href.split("#")[0], t: Date.now()};
      save("clicks", clicks);
    }

    function recentClicks() {
      var clicks = load("clicks") || {};
      Object.keys(clicks).forEach(function (articleId) {
        if (!(Date.now() - clicks[articleId].t < CLICK_TTL_MS)) delete clicks[articleId];
      });
      return clicks;
    }

    // Engaged: on the article page a click led to, once the reader has spent the server's
    // ENGAGED_SECONDS there with the page visible and active (an input in the last 5 s;
    // loading the page counts as one).
    function watchEngaged() {
      var clicks = recentClicks();
      var here = location.href.split("#")[0];
      var articleId = Object.keys(clicks).filter(function (id) {
        return pageArticle ? id === pageArticle : clicks[id].u === here;
      })[0];
      if (!articleId) return;
      var click = clicks[articleId];
      var active = 0;
      var last = Date.now();
      var lastInput = last;
      ["scroll", "keydown", "pointerdown", "pointermove", "touchstart", "wheel"].forEach(function (type) {
        addEventListener(type, function () { lastInput = Date.now(); }, {capture: true, passive: true});
      });
      var tick = setInterval(safe(function () {
        var now = Date.now();
        if (document.visibilityState === "visible" && now - lastInput < IDLE_MS) active += now - last;
        last = now;
        if (active < click.s * 1000) return;
        clearInterval(tick);
        var remaining = recentClicks();
        delete remaining[articleId];
        save("clicks", remaining);
        queue([{type: "engaged", experiment_id: click.e, candidate_id: click.c, visitor: click.v,
                event_id: click.i.slice(0, -1) + "e"}]);
        flush(false);
      }), 250);
    }

    // Start ---------------------------------------------------------------------------

    function start() {
      if (!consented || !api || !key) return;
      visitor = visitorId();
      watchEngaged();
      var elements = Array.from(document.querySelectorAll(SELECTOR));
      if (elements.length) serve(elements);
    }

    var begin = safe(function () {
      if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", safe(start));
      } else {
        start();
      }
    });

    window.masthead = {
      // The site calls this once the reader has agreed (with data-consent="required").
      // Headlines are swapped only if it comes within the budget; the next page view takes
      // part in full.
      consent: safe(function () {
        if (consented) return;
        consented = true;
        begin();
      })
    };
    document.addEventListener("click", safe(onClick), true);
    document.addEventListener("auxclick", safe(onClick), true);
    document.addEventListener("visibilitychange", safe(onVisibility));
    addEventListener("pagehide", safe(function () { flush(true); }));
    begin();
  } catch (error) {
    // a browser without what this needs (fetch, IntersectionObserver, crypto): the page
    // keeps its own headlines
  }
})();
