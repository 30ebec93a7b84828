/* The Programmes page's live preview (docs/dashboard.md#programmes). Every change in a form posts all the forms,
   unsaved, to the preview endpoint (which validates with each programme's own rules and writes nothing) and
   shows its answer in the real storefront widget (app/storefront's built files), run in an iframe sandboxed to
   scripts only (an opaque origin: it can reach neither the dashboard nor its cookies). The widget's calls to the
   storefront API are answered inside the frame from the preview's answers; no request leaves it but the
   widget's own files. */
(function () {
  "use strict";

  // Runs inside the frame, before widget.js: the storefront API as the preview answered it.
  function shim(answers) {
    window.fetch = function (url) {
      var path = new URL(url, "https://preview.invalid").pathname.replace(/^\/api\/v1/, "");
      var body = answers[path];
      var status = body === undefined ? (path === "/me/balance" ? 401 : 404) : 200;
      if (body === undefined) body = { error: status === 401 ? "unauthorized" : "not_found" };
      return Promise.resolve(new Response(JSON.stringify(body), { status: status, headers: { "Content-Type": "application/json" } }));
    };
    // The points panel drawn in the page (no launcher, no dialog: nothing in the frame takes the focus), once
    // widget.js has its stylesheet and language (it fills the reviews block then).
    document.addEventListener("DOMContentLoaded", function () {
      var box = document.querySelector('[data-ppe="reviews"]');
      var tries = 0;
      (function wait() {
        var P = window.__ppe;
        if (!(box.childElementCount && P && P.panel) && tries++ < 200) return setTimeout(wait, 25);
        var body = document.querySelector("#ppe-preview-panel .ppe-body");
        Promise.resolve(P && P.panel && P.panel(body)).then(function () { document.body.setAttribute("data-ready", "1"); });
      })();
    });
  }

  function attr(value) {
    return String(value).replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
  }

  function documentFor(frame, answers) {
    var lang = frame.getAttribute("data-lang") || "en";
    var data = JSON.stringify(answers).replace(/</g, "\\u003c");
    return '<!doctype html><html lang="' + attr(lang) + '"><head><meta charset="utf-8"><title>' + attr(frame.getAttribute("data-label")) + "</title>" +
      "<style>body{margin:0;padding:12px;font:14px/1.45 -apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,sans-serif;color:#1d1d1f;background:#fff}" +
      ".ppe-panel.ppe-inline{position:static;width:auto;max-height:none;box-shadow:none;border:1px solid #e3e3e3;margin:12px 0}</style>" +
      "<script>(" + shim.toString() + ")(" + data + ");<\/script>" +
      '<script defer src="' + attr(frame.getAttribute("data-widget")) + '" data-api="https://preview.invalid" data-launcher="false" data-locale="' + attr(lang) + '"><\/script>' +
      '<script defer src="' + attr(frame.getAttribute("data-panel")) + '"><\/script>' +
      '</head><body><main><span data-ppe="stars" data-product-id="sample" style="display:inline-block;min-height:1.5em;min-width:8em"></span>' +
      '<div class="ppe-panel ppe-inline" id="ppe-preview-panel"><div class="ppe-body"></div></div>' +
      '<div data-ppe="reviews" data-product-id="sample" style="display:block;min-height:360px"></div></main></body></html>';
  }

  function init() {
    var frame = document.querySelector("iframe[data-ppe-preview]");
    if (!frame || frame.getAttribute("data-bound") === "1") return;
    frame.setAttribute("data-bound", "1");
    var forms = Array.prototype.slice.call(document.querySelectorAll("form[data-ppe-preview-form]"));
    var notes = document.querySelector("[data-ppe-preview-notes]");
    var status = document.querySelector("[data-ppe-preview-status]");
    var timer = null;
    var asked = 0;

    function body() {
      var all = new FormData();
      forms.forEach(function (form) {
        new FormData(form).forEach(function (value, key) {
          if (key !== "csrf_token" || !all.has(key)) all.append(key, value);
        });
      });
      return all;
    }

    function post(url, data) {
      if (window.ppeCall) return window.ppeCall(url, { method: "POST", body: data }); // inside the Shopify admin
      return fetch(url, { method: "POST", body: data, credentials: "same-origin" });
    }

    function refresh() {
      var mine = ++asked;
      post(frame.getAttribute("data-ppe-preview"), body()).then(function (answer) {
        if (!answer.ok) throw new Error("preview " + answer.status);
        return answer.json();
      }).then(function (answer) {
        if (mine !== asked) return; // a newer change is on its way
        frame.srcdoc = documentFor(frame, answer.answers);
        notes.replaceChildren.apply(notes, answer.notes.map(function (text) {
          var item = document.createElement("li");
          item.textContent = text;
          return item;
        }));
        var refused = Object.keys(answer.errors);
        status.textContent = refused.length ? frame.getAttribute("data-invalid") + " " + refused.map(function (name) {
          return answer.errors[name];
        }).join("; ") : "";
        frame.setAttribute("data-version", String(mine));
      }).catch(function () {
        if (mine === asked) status.textContent = frame.getAttribute("data-failed");
      });
    }

    function later() {
      clearTimeout(timer);
      timer = setTimeout(refresh, 200);
    }
    forms.forEach(function (form) {
      form.addEventListener("input", later);
      form.addEventListener("change", later);
    });
    // The stored settings' preview came with the page: drawn at once, no first round trip.
    var initial = frame.getAttribute("data-initial");
    if (initial && !asked) {
      frame.srcdoc = documentFor(frame, JSON.parse(initial));
      frame.setAttribute("data-version", "0");
    } else {
      refresh();
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
  document.addEventListener("ppe:page", init); // inside the Shopify admin: the page's main part was replaced
})();
