/*! ppe storefront widget; source: app/storefront/widget_src */
// Loaded on every page, so it holds only what any page shows at once: the stars and the launcher. The reviews
// block (widget-reviews.js) is imported when the page has one, the points panel (widget-panel.js) on
// interaction, another language's strings (widget-<lang>.js) when the page is in it: Shopify's theme check
// (AssetSizeJavaScript) allows 10,000 bytes on every page and asks for the "import on interaction" pattern.
// https://shopify.dev/docs/storefronts/themes/tools/theme-check/checks/asset-size-javascript
// How a theme includes it: docs/widget.md. scripts/build-widget strips these comments and the indentation.
(function () {
  'use strict';
  const S = document.currentScript;
  const W = window;
  if (!S || W.__ppe) return;
  const D = S.dataset;
  const d = document;
  // What the other files use; they call back through it (P.l: strings, P.reviews, P.panel).
  const P = (W.__ppe = {});
  const api = (D.api || '').replace(/\/+$/, '');
  const proxied = /^\/[^/]/.test(api);
  const meta = d.querySelector('meta[name="ppe-customer-token"]');
  const token = D.token || (meta && meta.content) || '';
  // The other files sit next to this one: on Shopify's CDN as under our /widget/<version>/.
  const near = (name) => S.src.replace(/widget\.js(\?.*)?$/, name + '$1');
  // English is every string's fallback; widget-reviews.js and widget-panel.js add theirs. Plural forms follow
  // Intl.PluralRules categories (https://cldr.unicode.org/index/cldr-spec/plural-rules).
  const E = (P.E = {
    count: { one: '{n} review', other: '{n} reviews' }, stars: '{r} out of 5 stars',
    rewards: 'Rewards', close: 'Close', error: 'Something went wrong. Please try again.'
  });
  const pick = (tag) => {
    const lang = String(tag || '').toLowerCase().split(/[-_]/)[0];
    return ['en', 'pl', 'hu', 'lv', 'kk', 'th'].includes(lang) ? lang : null;
  };
  const locale = (P.locale = pick(D.locale) || pick(d.documentElement.lang) || pick(navigator.language) || 'en');
  let L = {};
  P.l = (table) => { L = table; };
  // Intl's number and date formatters cost about 25 ms of CPU to create on a page's first use (ICU data; over
  // 100 ms at Lighthouse's mobile CPU slowdown, a long task), PluralRules almost nothing. So what every page
  // draws (the stars, the launcher) uses neither: 0-999 with one decimal at most needs no grouping, only the
  // language's decimal separator (CLDR: a comma in pl, hu, lv, kk). The date formatter is made when a
  // reviews block asks (P.date() while its requests are in flight), the rest in the panel.
  const plural = new Intl.PluralRules(locale);
  const t = (P.t = (key, v) => {
    v = v || {};
    let s = L[key] || E[key];
    if (s.other) s = s[plural.select(v.n)] || s.other;
    return s.replace(/\{(\w)\}/g, (m, k) => (k in v ? v[k] : m));
  });
  const sep = (P.sep = /^(pl|hu|lv|kk)$/.test(locale) ? ',' : '.');
  let nf, df;
  const num = (P.num = (n) => {
    n = Number(n) || 0;
    if (n >= 0 && n < 1000 && Math.round(n * 10) === n * 10) return String(n).replace('.', sep);
    return (nf = nf || new Intl.NumberFormat(locale)).format(n);
  });
  P.fmt = (n, o) => Number(n).toLocaleString(locale, o);
  P.date = (iso) => {
    df = df || new Intl.DateTimeFormat(locale, { year: 'numeric', month: 'short', day: 'numeric' });
    const x = new Date(iso);
    return isNaN(x) ? '' : df.format(x);
  };

  // Elements are built with textContent only: review texts and names come from shoppers, never as HTML.
  const h = (P.h = (tag, attrs, ...kids) => {
    const el = d.createElement(tag);
    for (const k in attrs) {
      const v = attrs[k];
      if (v == null || v === false) continue;
      if (k === 'on') for (const e in v) el.addEventListener(e, v[e]);
      else el.setAttribute(k, v === true ? '' : v);
    }
    for (const kid of kids.flat()) if (kid != null && kid !== false) el.append(kid);
    return el;
  });
  let uid = 0;
  P.id = (p) => 'ppe-' + p + ++uid;
  const color = (c) => (/^(#[0-9a-f]{3,8}|rgba?\([\d\s.,%]+\)|[a-z]{3,20})$/i.test(c || '') ? c : null);
  P.theme = (el) => {
    const p = color(D.primary);
    const o = color(D.onPrimary);
    if (p) el.style.setProperty('--ppe-primary', p);
    if (o) el.style.setProperty('--ppe-on-primary', o);
    return el;
  };

  P.call = async (path, opts) => {
    opts = opts || {};
    const url = new URL(api + '/api/v1' + path, location.href);
    // Cross-origin calls name the store in the query: browsers send no custom header on a CORS preflight.
    if (!proxied && D.store) url.searchParams.set('store', D.store);
    const headers = Object.assign({ Accept: 'application/json' }, opts.headers);
    if (token && !proxied) headers.Authorization = 'Bearer ' + token;
    if (opts.body) headers['Content-Type'] = 'application/json';
    const res = await fetch(url.href, {
      method: opts.method || 'GET',
      headers,
      body: opts.body && JSON.stringify(opts.body),
      credentials: proxied ? 'same-origin' : 'omit'
    });
    const data = await res.json().catch(() => null);
    if (!res.ok) {
      const err = new Error((data && data.error) || 'http_' + res.status);
      err.status = res.status;
      throw err;
    }
    return data;
  };
  const safe = (P.safe = (p) => p.catch(() => null));
  // One summary request per product, shared by its stars and its reviews block.
  const sums = {};
  P.summary = (pid) => sums[pid] || (sums[pid] = safe(P.call('/products/' + pid + '/reviews/summary')));
  // Another file of the widget, once.
  const files = {};
  const load = (name) => files[name] || (files[name] = new Promise((ok, no) => {
    d.head.append(h('script', { src: near(name), async: true, on: { load: ok, error: no } }));
  }));

  const stars = (P.stars = (rating, big) => {
    const r = Math.max(0, Math.min(5, Number(rating) || 0));
    const label = t('stars', { r: num(Math.round(r * 10) / 10) });
    return h('span', { class: 'ppe-stars' + (big ? ' ppe-big' : ''), role: 'img', 'aria-label': label, title: label },
      h('span', { class: 'ppe-stars-on', style: 'width:' + r * 20 + '%', 'aria-hidden': 'true' }));
  });

  async function renderStars(el) {
    const s = await P.summary(encodeURIComponent(el.dataset.productId));
    el.textContent = '';
    if (!s || !s.count) return;
    el.append(stars(s.average), ' ', h('span', { class: 'ppe-count' }, t('count', { n: s.count })));
    el.classList.add('ppe-ready');
  }

  // The launcher and its dialog's frame; what the dialog shows comes with widget-panel.js on the first opening
  // (fetched ahead when the pointer or the focus reaches the launcher).
  function launcher() {
    const title = P.id('panel');
    const body = h('div', { class: 'ppe-body' });
    const close = h('button', { type: 'button', class: 'ppe-close', 'aria-label': t('close'), on: { click: () => toggle(false) } }, '×');
    const panel = P.theme(h('div', { class: 'ppe-panel', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': title, hidden: true },
      h('div', { class: 'ppe-head' }, h('h2', { id: title }, t('rewards')), close), body));
    const early = () => safe(load('widget-panel.js'));
    const btn = P.theme(h('button', { type: 'button', class: 'ppe-launcher', 'aria-haspopup': 'dialog', 'aria-expanded': 'false',
      on: { click: () => toggle(panel.hidden), pointerenter: early, focus: early } }, '★ ' + t('rewards')));
    btn.setAttribute('aria-controls', panel.id = P.id('dialog'));
    d.body.append(btn, panel);
    let filled = false;
    function toggle(open) {
      panel.hidden = !open;
      btn.setAttribute('aria-expanded', String(open));
      if (!open) return btn.focus();
      if (!filled) {
        filled = true;
        load('widget-panel.js').then(() => P.panel(body), () => body.append(h('p', null, t('error'))));
      }
      close.focus();
    }
    // A modal dialog keeps focus inside and closes on Escape (https://www.w3.org/WAI/ARIA/apg/patterns/dialog-modal/).
    panel.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') { e.preventDefault(); toggle(false); return; }
      if (e.key !== 'Tab') return;
      const f = [...panel.querySelectorAll('button,a[href],input,select,textarea,[tabindex]:not([tabindex="-1"])')]
        .filter((x) => !x.disabled && x.offsetParent !== null);
      const first = f[0];
      const last = f[f.length - 1];
      if (e.shiftKey && d.activeElement === first) { e.preventDefault(); last.focus(); }
      else if (!e.shiftKey && d.activeElement === last) { e.preventDefault(); first.focus(); }
    });
  }

  // Nothing starts before the page's load event (then idle time, where the browser has it): the widget's
  // files and requests never compete with the page's own content. The stylesheet is added here, not in the
  // head, so it never blocks the page's first paint: placeholders reserve their height inline (the blocks'
  // markup), and drawing waits for it and for the page language's strings (no unstyled or half-translated
  // widget).
  const idle = W.requestIdleCallback || ((f) => setTimeout(f, 1));
  function setup() {
    let css = d.querySelector('link[data-ppe-css],link[rel=stylesheet][href*="widget.css"]');
    if (!css) d.head.append(css = h('link', { rel: 'stylesheet', href: D.css || near('widget.css'), 'data-ppe-css': true }));
    const styled = css.sheet || new Promise((ok) => { css.onload = css.onerror = ok; setTimeout(ok, 3000); });
    const boxes = d.querySelectorAll('[data-ppe="reviews"][data-product-id]');
    const parts = [styled, locale === 'en' || safe(load('widget-' + locale + '.js')), !boxes.length || safe(load('widget-reviews.js'))];
    Promise.all(parts).then(() => {
      d.querySelectorAll('[data-ppe="stars"][data-product-id]').forEach(renderStars);
      if (P.reviews) boxes.forEach(P.reviews);
      if (D.launcher !== 'false') launcher();
    });
  }
  const start = () => idle(setup, { timeout: 2000 });
  if (d.readyState === 'complete') start();
  else W.addEventListener('load', start);
})();
