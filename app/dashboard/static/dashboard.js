/* The dashboard's one script. Inside the Shopify admin (html[data-embedded=1]) every call to our server carries
   a fresh App Bridge session token (shopify.idToken(): https://shopify.dev/docs/api/app-home/apis/id-token):
   the page's main part is fetched with it (the document itself is only the frame), forms are sent with it,
   and a shop we hold no offline token for is installed first by POST /shopify/session (token exchange).
   At our own origin (WooCommerce) pages are plain documents and this script does nothing. */
(function () {
  "use strict";
  var root = document.documentElement;
  // After an action (POST-redirect-GET) its outcome takes the focus, so a keyboard or screen reader user hears it.
  function focusStatus() {
    var status = document.querySelector("[data-status]");
    if (status) status.focus();
  }
  if (root.getAttribute("data-embedded") !== "1") return focusStatus();
  var main = document.getElementById("ppe-main");

  function call(url, options) {
    options = options || {};
    return window.shopify.idToken().then(function (token) {
      var headers = new Headers(options.headers || {});
      headers.set("Authorization", "Bearer " + token);
      return fetch(url, { method: options.method || "GET", body: options.body, headers: headers, credentials: "omit" });
    });
  }
  window.ppeCall = call; // for pages' own scripts: the token rides along

  function show(html) {
    main.innerHTML = html;
    main.removeAttribute("aria-busy");
    var part = main.querySelector("[data-title]");
    if (part) document.title = part.getAttribute("data-title") + " · Post-purchase engine";
    // innerHTML runs no script: a page's own script (data-ppe-page-script) is added once, then told of each
    // new main part by the "ppe:page" event.
    main.querySelectorAll("script[data-ppe-page-script]").forEach(function (tag) {
      var src = tag.getAttribute("src");
      if (document.querySelector('head script[src="' + src + '"]')) return;
      var script = document.createElement("script");
      script.src = src;
      document.head.appendChild(script);
    });
    document.dispatchEvent(new Event("ppe:page"));
  }

  function failed() {
    show('<div class="ppe-card" role="alert"><h1>This page could not be loaded</h1><p>Reload the app from your admin.</p></div>');
  }

  function load(url, options) {
    options = options || {};
    options.headers = { "X-PPE-Fragment": "1" };
    return call(url, options).then(function (answer) {
      if (answer.status !== 401) return answer;
      return answer.clone().json().catch(function () { return {}; }).then(function (body) {
        if (body.error !== "store_not_installed") return answer;
        return call("/shopify/session", { method: "POST" }).then(function (installed) {
          return installed.ok ? call(url, options) : answer;
        });
      });
    }).then(function (answer) {
      // 422 and 429: a form refused (its errors next to the fields) or a limit reached; shown like any page.
      if (!answer.ok && answer.status !== 422 && answer.status !== 429) return failed();
      if (answer.redirected) { // a form saved (POST-redirect-GET): the address follows the page shown
        var landed = new URL(answer.url);
        history.pushState(null, "", landed.pathname + landed.search + landed.hash);
      }
      return answer.text().then(show);
    }).catch(failed);
  }

  if (root.getAttribute("data-shell") === "1") load(location.pathname + location.search);

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!main.contains(form)) return;
    event.preventDefault();
    var target = new URL(form.getAttribute("action") || location.href, location.href);
    if ((form.getAttribute("method") || "get").toLowerCase() === "get") {
      new FormData(form).forEach(function (value, key) {
        if (value === "") target.searchParams.delete(key); else target.searchParams.set(key, value);
      });
      history.pushState(null, "", target.pathname + target.search);
      load(target.pathname + target.search);
    } else {
      load(target.pathname + target.search, { method: "POST", body: new FormData(form) }).then(focusStatus);
    }
  });
  window.addEventListener("popstate", function () { load(location.pathname + location.search); });
})();
