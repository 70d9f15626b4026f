/*
 * Tandem embedded forms. Paste on any page of a site listed among the form's source origins:
 *
 *   <div id="tandem-form-SLUG"></div>
 *   <script src="https://TANDEM/static/tracking/forms.js" data-form="SLUG"
 *           data-endpoint="https://TANDEM" data-target="tandem-form-SLUG" async></script>
 *
 * It fetches the form's markup from the server (GET /f/SLUG/?embed=1, the very fragment the
 * hosted landing page renders, escaped by the server), inserts it, and submits it with fetch
 * (POST /f/SLUG/submit, Accept: application/json): per-field errors show under their fields,
 * success replaces the form with the thank-you text. It needs no other script, and when
 * tandem.js runs on the page it sends along that script's anonymous id (localStorage tdm_aid),
 * so the visitor's earlier page views join the contact's timeline. Cookies are never sent.
 */
(function () {
  "use strict";

  var SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
  var ANONYMOUS_ID = /^[A-Za-z0-9_-]{16,64}$/;
  var FAILED = "The form could not be sent. Please check your connection and try again.";
  // Plain defaults with zero specificity (:where), so the host site's own styles always win.
  var STYLE =
    ":where(.tdm-form .tdm-field){margin:.7em 0}" +
    ":where(.tdm-form label){display:block;font-weight:600;margin:0 0 .2em}" +
    ":where(.tdm-form .tdm-check){display:flex;gap:.5em;align-items:flex-start;font-weight:400}" +
    ":where(.tdm-form input:not([type=checkbox]),.tdm-form select,.tdm-form textarea)" +
    "{box-sizing:border-box;width:100%;max-width:32em;padding:.4em;font:inherit}" +
    ":where(.tdm-form .tdm-error,.tdm-form .tdm-form-error,.tdm-form .tdm-req){color:#c92a2a}" +
    ":where(.tdm-form .tdm-error,.tdm-form .tdm-help){margin:.25em 0 0;font-size:.9em}";

  function addStyle() {
    if (document.querySelector("style[data-tandem-forms]")) return;
    var style = document.createElement("style");
    style.setAttribute("data-tandem-forms", "");
    style.textContent = STYLE;
    (document.head || document.documentElement).appendChild(style);
  }

  function anonymousId() {
    try {
      var value = window.localStorage.getItem("tdm_aid") || "";
      return ANONYMOUS_ID.test(value) ? value : "";
    } catch (e) {
      return ""; // storage blocked (privacy settings): submit without it
    }
  }

  function errorSlot(form, name) {
    var slots = form.querySelectorAll("[data-error-for]");
    for (var i = 0; i < slots.length; i++) {
      if (slots[i].getAttribute("data-error-for") === name) return slots[i];
    }
    return null;
  }

  function clearErrors(form) {
    var slots = form.querySelectorAll("[data-error-for]");
    for (var i = 0; i < slots.length; i++) {
      slots[i].textContent = "";
      slots[i].hidden = true;
    }
    var invalid = form.querySelectorAll("[aria-invalid]");
    for (var j = 0; j < invalid.length; j++) invalid[j].removeAttribute("aria-invalid");
  }

  function showErrors(form, errors) {
    var first = null;
    Object.keys(errors).forEach(function (name) {
      var slot = errorSlot(form, name) || errorSlot(form, "form");
      if (!slot) return;
      slot.textContent = String(errors[name]); // text, never markup
      slot.hidden = false;
      var input = slot.id ? form.querySelector("[aria-describedby~='" + slot.id + "']") : null;
      if (input) input.setAttribute("aria-invalid", "true");
      first = first || input || slot;
    });
    if (first && first.focus) first.focus();
  }

  function thank(container, form, endpoint, body) {
    var box = document.createElement("div");
    box.className = "tdm-thanks";
    box.setAttribute("role", "status");
    String(body.message || "").split(/\n+/).forEach(function (line) {
      var p = document.createElement("p");
      p.textContent = line;
      box.appendChild(p);
    });
    var link = String(body.asset_url || "");
    // Only a link back to the Tandem server that rendered the form.
    if (link.indexOf(endpoint + "/") === 0) {
      var a = document.createElement("a");
      a.className = "tdm-asset";
      a.href = link;
      a.textContent = "Get the content";
      box.appendChild(a);
    }
    container.replaceChild(box, form);
  }

  function bind(container, form, endpoint, base) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearErrors(form);
      var data = new FormData(form);
      data.set("_page_url", window.location.href);
      data.set("_referrer", document.referrer || "");
      var aid = anonymousId();
      if (aid) data.set("_anonymous_id", aid);
      var button = form.querySelector("[type=submit]");
      if (button) button.disabled = true;
      fetch(base + "submit", {
        method: "POST",
        body: data,
        credentials: "omit",
        headers: { Accept: "application/json" }
      })
        .then(function (response) {
          return response.json().then(function (body) {
            return { status: response.status, body: body || {} };
          });
        })
        .then(function (result) {
          if (result.body.ok) thank(container, form, endpoint, result.body);
          else showErrors(form, result.body.errors || { form: FAILED });
        })
        .catch(function () {
          showErrors(form, { form: FAILED });
        })
        .then(function () {
          if (button) button.disabled = false;
        });
    });
  }

  function mount(script) {
    if (script.getAttribute("data-tandem-mounted")) return;
    script.setAttribute("data-tandem-mounted", "1");
    var slug = script.getAttribute("data-form") || "";
    var endpoint = (script.getAttribute("data-endpoint") || "").replace(/\/+$/, "");
    if (!SLUG.test(slug) || !/^https?:\/\/[^/?#]+$/.test(endpoint)) return;
    var base = endpoint + "/f/" + slug + "/";
    var container = document.getElementById(script.getAttribute("data-target") || "");
    if (!container) {
      container = document.createElement("div");
      script.parentNode.insertBefore(container, script);
    }
    fetch(base + "?embed=1", { credentials: "omit" })
      .then(function (response) {
        if (!response.ok) throw new Error("form not available");
        return response.text();
      })
      .then(function (html) {
        // Parsed inertly (scripts in it never run), then only the form element is adopted.
        var doc = new DOMParser().parseFromString(html, "text/html");
        var source = doc.querySelector("form.tdm-form");
        if (!source) throw new Error("no form in the answer");
        var form = document.importNode(source, true);
        addStyle();
        while (container.firstChild) container.removeChild(container.firstChild);
        container.appendChild(form);
        bind(container, form, endpoint, base);
      })
      .catch(function () {
        container.textContent = "This form is not available right now.";
      });
  }

  if (document.currentScript) mount(document.currentScript);
  var all = document.querySelectorAll("script[data-form][data-endpoint]");
  for (var i = 0; i < all.length; i++) mount(all[i]);
})();
